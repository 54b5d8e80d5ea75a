package dev.rectok.api;

import dev.rectok.api.spi.Backend;
import dev.rectok.api.spi.GeneratorProvider;
import dev.rectok.api.spi.TrainerProvider;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.ToIntFunction;

/**
 * Finds the installed implementations (the {@link Backend}, {@link GeneratorProvider} and {@link
 * TrainerProvider} services) through {@link ServiceLoader}. Stateless; thread-safe.
 *
 * <p>Where it looks, in order: the class loader passed in (the no-argument forms pass the thread's
 * context class loader), then this API's own class loader, then this API's module layer. The
 * fallback is what makes a plugin work: a host such as ImageJ loads plugin jars with its own class
 * loader, which the thread's context class loader cannot see, but which loaded this class too. One
 * selection rule for every kind of provider: highest {@code priority()} first, ties broken by class
 * name. When nothing is found the {@link IllegalStateException} names the artifact to add and lists
 * every place it searched.
 */
public final class Backends {
  private Backends() {}

  /**
   * Every installed backend visible from the context class loader (or the fallbacks).
   *
   * @return the backends, highest priority first; empty when none is installed
   */
  public static List<Backend> all() {
    return all(contextLoader());
  }

  /**
   * Every installed backend visible from {@code loader} (or the fallbacks).
   *
   * @param loader the class loader to search first (a plugin's), or null for the fallbacks only
   * @return the backends, highest priority first; empty when none is installed
   */
  public static List<Backend> all(ClassLoader loader) {
    return find(Backend.class, Backend::priority, loader, new ArrayList<>());
  }

  /**
   * The installed backend with the highest priority, searched from the context class loader.
   *
   * @return the backend
   * @throws IllegalStateException naming the artifact to add and where it searched when none is
   *     installed
   */
  public static Backend load() {
    return load(contextLoader());
  }

  /**
   * The installed backend with the highest priority, searched from {@code loader} (a plugin's or
   * container's class loader), then the fallbacks.
   *
   * @param loader the class loader to search first, or null for the fallbacks only
   * @return the backend
   * @throws IllegalStateException naming the artifact to add and where it searched when none is
   *     installed
   */
  public static Backend load(ClassLoader loader) {
    return first(
        Backend.class, Backend::priority, loader, "backend", "rectok-native", "dev.rectok.torch");
  }

  /**
   * The generator provider with the highest priority, searched from {@code loader}, then the
   * fallbacks.
   *
   * @param loader the class loader to search first, or null for the fallbacks only
   * @return the provider
   * @throws IllegalStateException naming the artifact to add and where it searched when none is
   *     installed
   */
  public static GeneratorProvider generators(ClassLoader loader) {
    return first(
        GeneratorProvider.class,
        GeneratorProvider::priority,
        loader,
        "generator",
        "rectok-generate",
        "dev.rectok.generate");
  }

  /**
   * The trainer provider with the highest priority, searched from {@code loader}, then the
   * fallbacks.
   *
   * @param loader the class loader to search first, or null for the fallbacks only
   * @return the provider
   * @throws IllegalStateException naming the artifact to add and where it searched when none is
   *     installed
   */
  public static TrainerProvider trainers(ClassLoader loader) {
    return first(
        TrainerProvider.class,
        TrainerProvider::priority,
        loader,
        "trainer",
        "rectok-train",
        "dev.rectok.train");
  }

  /**
   * Opens a tokenizer model file (memory-mapped) with the installed backend.
   *
   * @param modelFile the model file
   * @param device where the model runs
   * @return the tokenizer, owned by the caller
   * @throws IOException for a missing, malformed or wrong-kind file
   */
  public static Tokenizer openTokenizer(Path modelFile, Device device) throws IOException {
    return load().openTokenizer(modelFile, device);
  }

  // --- issue 13: precision ---
  /**
   * Opens a tokenizer model file with the installed backend for inference in {@code precision}.
   *
   * @param modelFile the tokenizer's model file
   * @param device where the tokenizer runs
   * @param precision the inference arithmetic
   * @return the tokenizer; the caller owns it and closes it
   * @throws IOException for a missing, malformed or wrong-kind file
   * @throws IllegalArgumentException when {@code precision} is not supported on {@code device}
   */
  public static Tokenizer openTokenizer(Path modelFile, Device device, Precision precision)
      throws IOException {
    return load().openTokenizer(modelFile, device, precision);
  }

  /**
   * Opens a tokenizer model from a URL: a {@code file:} URL is memory-mapped in place; any other (a
   * {@code jar:} entry, {@code http:} is never fetched by the SDK itself but by the URL's handler)
   * is streamed through a temporary file.
   *
   * @param model where the model file is
   * @param device where the model runs
   * @return the tokenizer, owned by the caller
   * @throws IOException for an unreadable URL or malformed or wrong-kind model bytes
   */
  public static Tokenizer openTokenizer(URL model, Device device) throws IOException {
    Backend backend = load();
    Path file = fileOf(model);
    if (file != null) {
      return backend.openTokenizer(file, device);
    }
    try (InputStream in = model.openStream()) {
      return backend.openTokenizer(in, device);
    }
  }

  /**
   * Opens a tokenizer model stored as a class-path resource of {@code loader} (for example {@code
   * rectok-models/fashion-mnist/tokenizer.safetensors} from the demo-models artifact).
   *
   * @param resource the resource name, without a leading slash
   * @param loader the class loader that holds it, or null for this API's loader
   * @param device where the model runs
   * @return the tokenizer, owned by the caller
   * @throws IOException naming the resource and the loader when it is not there, or for malformed
   *     bytes
   */
  public static Tokenizer openTokenizerResource(String resource, ClassLoader loader, Device device)
      throws IOException {
    return openTokenizer(resource(resource, loader), device);
  }

  /**
   * Opens a generator (and its optional AutoGuidance companion) with the installed provider.
   *
   * @param model the generator's model file
   * @param guide the guide's model file, or null for none
   * @param device where the models run
   * @return the generator, owned by the caller
   * @throws IOException for a missing, malformed or wrong-kind file
   * @throws IllegalStateException naming the artifact to add when none is installed
   */
  public static Generator openGenerator(Path model, Path guide, Device device) throws IOException {
    return generators(contextLoader()).openGenerator(model, guide, device);
  }

  /**
   * Opens a generator and optional guide from URLs ({@code file:} URLs are memory-mapped in place,
   * others streamed through temporary files).
   *
   * @param model where the generator's model file is
   * @param guide the guide's URL, or null for none
   * @param device where the models run
   * @return the generator, owned by the caller
   * @throws IOException for an unreadable URL or malformed or wrong-kind model bytes
   */
  public static Generator openGenerator(URL model, URL guide, Device device) throws IOException {
    GeneratorProvider p = generators(contextLoader());
    Path m = fileOf(model);
    Path g = guide == null ? null : fileOf(guide);
    if (m != null && (guide == null || g != null)) {
      return p.openGenerator(m, g, device);
    }
    try (InputStream min = model.openStream();
        InputStream gin = guide == null ? null : guide.openStream()) {
      return p.openGenerator(min, gin, device);
    }
  }

  /**
   * Opens a generator and optional guide stored as class-path resources of {@code loader}.
   *
   * @param model the generator's resource name
   * @param guide the guide's resource name, or null for none
   * @param loader the class loader that holds them, or null for this API's loader
   * @param device where the models run
   * @return the generator, owned by the caller
   * @throws IOException naming a resource that is not there, or for malformed bytes
   */
  public static Generator openGeneratorResource(
      String model, String guide, ClassLoader loader, Device device) throws IOException {
    return openGenerator(
        resource(model, loader), guide == null ? null : resource(guide, loader), device);
  }

  /**
   * Opens a tokenizer trainer with the installed provider.
   *
   * @param spec what to train, on which data, where
   * @return the distiller, owned by the caller
   * @throws IOException for unreadable data or teacher files, or a run directory that differs
   * @throws IllegalStateException naming the artifact to add when none is installed
   */
  public static FlowDistiller openFlowDistiller(FlowDistillerSpec spec) throws IOException {
    return trainers(contextLoader()).openFlowDistiller(spec);
  }

  // --- issue 11: evaluation through the API ---
  /**
   * The evaluator provider with the highest priority, searched from {@code loader}, then the
   * fallbacks.
   *
   * @param loader the class loader to search first, or null for the fallbacks only
   * @return the provider
   * @throws IllegalStateException naming the artifact to add and where it searched when none is
   *     installed
   */
  public static dev.rectok.api.spi.EvaluatorProvider evaluators(ClassLoader loader) {
    return first(
        dev.rectok.api.spi.EvaluatorProvider.class,
        dev.rectok.api.spi.EvaluatorProvider::priority,
        loader,
        "evaluator",
        "rectok-native",
        "dev.rectok.torch");
  }

  /**
   * Runs an evaluation (FID, Inception Score, precision/recall, KID, sFID) with the installed
   * evaluator provider.
   *
   * @param request what to evaluate and how
   * @param progress receives progress of the feature extraction
   * @return the report
   * @throws IOException for missing, unreadable or malformed files
   * @throws IllegalStateException naming the artifact to add when none is installed
   */
  public static dev.rectok.api.eval.EvaluationReport evaluate(
      dev.rectok.api.eval.EvaluationRequest request, Progress progress) throws IOException {
    return evaluators(contextLoader()).evaluate(request, progress);
  }

  private static ClassLoader contextLoader() {
    return Thread.currentThread().getContextClassLoader();
  }

  private static URL resource(String name, ClassLoader loader) throws IOException {
    ClassLoader l = loader != null ? loader : Backends.class.getClassLoader();
    URL url = l.getResource(name);
    if (url == null) {
      throw new IOException(
          "no class-path resource "
              + name
              + " in "
              + describe(l)
              + ": add the artifact that holds it (the demo models: dev.rectok:rectok-demo-models)");
    }
    return url;
  }

  private static Path fileOf(URL url) {
    if (!"file".equals(url.getProtocol())) {
      return null;
    }
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException | IllegalArgumentException e) {
      return null;
    }
  }

  private static <S> S first(
      Class<S> type,
      ToIntFunction<S> priority,
      ClassLoader loader,
      String what,
      String artifact,
      String module) {
    List<String> searched = new ArrayList<>();
    List<S> all = find(type, priority, loader, searched);
    if (all.isEmpty()) {
      throw new IllegalStateException(
          "no RecTok "
              + what
              + " is installed: add the dependency dev.rectok:"
              + artifact
              + " (module "
              + module
              + ") to the class or module path, next to rectok-api. Searched for "
              + type.getName()
              + " in: "
              + String.join("; ", searched));
    }
    return all.getFirst();
  }

  /**
   * The one provider-selection rule: every source, de-duplicated by class, highest priority first.
   */
  static <S> List<S> find(
      Class<S> type, ToIntFunction<S> priority, ClassLoader loader, List<String> searched) {
    Map<String, S> found = new LinkedHashMap<>();
    ClassLoader own = Backends.class.getClassLoader();
    if (loader != null) {
      searched.add(describe(loader));
      collect(ServiceLoader.load(type, loader), found, searched);
    }
    if (own != loader) {
      searched.add("the API's own " + describe(own));
      collect(ServiceLoader.load(type, own), found, searched);
    }
    ModuleLayer layer = Backends.class.getModule().getLayer();
    if (layer != null) {
      searched.add(
          "the module layer of "
              + Backends.class.getModule().getName()
              + " ("
              + layer.modules().size()
              + " modules)");
      collect(ServiceLoader.load(layer, type), found, searched);
    }
    return found.values().stream()
        .sorted(
            Comparator.comparingInt(priority).reversed().thenComparing(s -> s.getClass().getName()))
        .toList();
  }

  private static <S> void collect(
      ServiceLoader<S> loader, Map<String, S> into, List<String> searched) {
    try {
      loader.stream().forEach(p -> into.putIfAbsent(p.type().getName(), p.get()));
    } catch (ServiceConfigurationError e) {
      // a broken provider in one place must not hide a working one in another; named if none is
      // found
      searched.add("(there: " + e.getMessage() + ")");
    }
  }

  static String describe(ClassLoader loader) {
    if (loader == null) {
      return "the bootstrap class loader";
    }
    String name = loader.getName() != null ? loader.getName() : loader.getClass().getName();
    String text = "class loader " + name;
    if (loader instanceof URLClassLoader u) {
      URL[] urls = u.getURLs();
      text +=
          " "
              + Arrays.stream(urls).limit(8).map(URL::toString).toList()
              + (urls.length > 8 ? " ..." : "");
    }
    return text;
  }
}
