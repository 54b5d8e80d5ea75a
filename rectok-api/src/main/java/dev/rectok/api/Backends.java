package dev.rectok.api;

import dev.rectok.api.spi.Backend;
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
}
