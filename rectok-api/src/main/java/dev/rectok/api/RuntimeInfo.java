package dev.rectok.api;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a backend reports about itself: an immutable, ordered set of facts for {@code rectok doctor}
 * and bug reports. Thread-safe.
 *
 * @param backend the backend's name
 * @param version the native library's version (for LibTorch, e.g. {@code 1.13.1})
 * @param cudaDeviceCount visible CUDA devices, 0 on CPU-only runtimes
 * @param facts every other fact, in display order (paths, threads, BLAS, ...)
 */
public record RuntimeInfo(
    String backend, String version, int cudaDeviceCount, Map<String, String> facts) {
  /** Copies the facts, keeping their order. */
  public RuntimeInfo {
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(version, "version");
    facts = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(facts));
  }

  /**
   * The report as aligned {@code key: value} lines.
   *
   * @return the formatted facts
   */
  public String format() {
    int width = facts.keySet().stream().mapToInt(String::length).max().orElse(0);
    StringBuilder sb = new StringBuilder();
    facts.forEach((k, v) -> sb.append(String.format("%-" + Math.max(1, width) + "s  %s%n", k, v)));
    return sb.toString();
  }
}
