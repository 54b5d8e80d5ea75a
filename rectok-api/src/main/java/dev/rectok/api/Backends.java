package dev.rectok.api;

import dev.rectok.api.spi.Backend;
import dev.rectok.api.spi.GeneratorProvider;
import dev.rectok.api.spi.TrainerProvider;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/** Finds the installed {@link Backend} through {@link ServiceLoader}. Stateless; thread-safe. */
public final class Backends {
  private Backends() {}

  /** Every installed backend, highest priority first. */
  public static List<Backend> all() {
    return ServiceLoader.load(Backend.class).stream()
        .map(ServiceLoader.Provider::get)
        .sorted(Comparator.comparingInt(Backend::priority).reversed())
        .toList();
  }

  /**
   * The installed backend with the highest priority.
   *
   * @throws IllegalStateException naming the artifact to add when none is installed
   */
  public static Backend load() {
    List<Backend> all = all();
    if (all.isEmpty()) {
      throw new IllegalStateException(
          "no RecTok backend is installed: add the dependency dev.rectok:rectok-native "
              + "(module dev.rectok.torch) to the class or module path");
    }
    return all.getFirst();
  }

  /** Opens a tokenizer model file with the installed backend. */
  public static Tokenizer openTokenizer(Path modelFile, Device device) throws IOException {
    return load().openTokenizer(modelFile, device);
  }

  // --- issue 13: precision ---
  /**
   * Opens a tokenizer model file with the installed backend for inference in {@code precision}.
   *
   * @throws IllegalArgumentException when {@code precision} is not supported on {@code device}
   */
  public static Tokenizer openTokenizer(Path modelFile, Device device, Precision precision) throws IOException {
    return load().openTokenizer(modelFile, device, precision);
  }

  /**
   * Opens a generator (and its optional AutoGuidance companion) with the installed provider.
   *
   * @throws IllegalStateException naming the artifact to add when none is installed
   */
  public static Generator openGenerator(Path model, Path guide, Device device) throws IOException {
    GeneratorProvider p = ServiceLoader.load(GeneratorProvider.class).findFirst().orElseThrow(() ->
        new IllegalStateException("no RecTok generator is installed: add the dependency dev.rectok:rectok-generate "
            + "(module dev.rectok.generate) to the class or module path"));
    return p.openGenerator(model, guide, device);
  }

  /**
   * Opens a tokenizer trainer with the installed provider.
   *
   * @throws IllegalStateException naming the artifact to add when none is installed
   */
  public static FlowDistiller openFlowDistiller(FlowDistillerSpec spec) throws IOException {
    TrainerProvider p = ServiceLoader.load(TrainerProvider.class).findFirst().orElseThrow(() ->
        new IllegalStateException("no RecTok trainer is installed: add the dependency dev.rectok:rectok-train "
            + "(module dev.rectok.train) to the class or module path"));
    return p.openFlowDistiller(spec);
  }
}
