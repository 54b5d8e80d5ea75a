package dev.rectok.models.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.io.SafeTensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One folder of the golden format (see {@code shared/golden/README.md}): {@code config.json},
 * {@code io.safetensors} with {@code input.*}, {@code output.*}, {@code derived.*} and {@code
 * debug.*} tensors, and the weights. Sizes come only from the folder.
 *
 * <p>Owns the memory-mapped {@code io.safetensors}; close it. Not thread-safe for closing, safe for
 * concurrent reads.
 */
public final class GoldenCase implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path dir;
  private final JsonNode config;
  private final SafeTensorsFile io;

  private GoldenCase(Path dir, JsonNode config, SafeTensorsFile io) {
    this.dir = dir;
    this.config = config;
    this.io = io;
  }

  /** Opens a case folder. */
  public static GoldenCase open(Path dir) throws IOException {
    Path cfg = dir.resolve("config.json");
    if (!Files.isRegularFile(cfg)) {
      throw new IOException(dir + " is not a golden case folder (no config.json)");
    }
    JsonNode config = JSON.readTree(cfg.toFile());
    Path ioPath = dir.resolve("io.safetensors");
    return new GoldenCase(
        dir, config, Files.isRegularFile(ioPath) ? SafeTensors.open(ioPath) : null);
  }

  /** The folder. */
  public Path dir() {
    return dir;
  }

  /** {@code config.json}'s {@code case} (the kind of check). */
  public String kind() {
    return config.path("case").asText();
  }

  /** The parsed {@code config.json}. */
  public JsonNode config() {
    return config;
  }

  /** Names in {@code io.safetensors}, in file order. */
  public List<String> names() {
    return io == null ? List.of() : io.names();
  }

  /** Whether {@code io.safetensors} has {@code name}. */
  public boolean has(String name) {
    return io != null && io.contains(name);
  }

  /** A tensor of {@code io.safetensors} as host bytes (valid until close). */
  public HostTensor host(String name) {
    if (io == null) {
      throw new IllegalStateException(dir + " has no io.safetensors");
    }
    return io.get(name);
  }

  /** A tensor of {@code io.safetensors} copied into LibTorch (owned by the caller or scope). */
  public Tensor tensor(String name) {
    return Tensor.fromHost(host(name));
  }

  /** A file of the folder, e.g. {@code weights.pth}. */
  public Path file(String name) {
    return dir.resolve(name);
  }

  @Override
  public void close() {
    if (io != null) {
      io.close();
    }
  }

  /**
   * How far {@code actual} is from {@code expected}: relative error ‖a−b‖/‖b‖ and max |a−b|,
   * computed in float64.
   */
  public record Comparison(String name, double relError, double maxAbsError, boolean shapeMatches) {
    /** Passes when the shapes match and the relative error is within {@code tolerance}. */
    public boolean passes(double tolerance) {
      return shapeMatches && relError <= tolerance;
    }

    @Override
    public String toString() {
      return String.format(
          "%-40s rel %.3e  max abs %.3e%s",
          name, relError, maxAbsError, shapeMatches ? "" : "  SHAPE MISMATCH");
    }
  }

  /** Compares {@code actual} with the golden tensor {@code name}. */
  public Comparison compare(String name, Tensor actual) {
    try (Tensor expected = tensor(name)) {
      return compare(name, actual, expected);
    }
  }

  /** Compares two tensors (any dtype, any device). */
  public static Comparison compare(String name, Tensor actual, Tensor expected) {
    if (!java.util.Arrays.equals(actual.shape(), expected.shape())) {
      return new Comparison(name, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, false);
    }
    double[] a = actual.toDoubleArray();
    double[] b = expected.toDoubleArray();
    double diff = 0;
    double norm = 0;
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      double d = a[i] - b[i];
      diff += d * d;
      norm += b[i] * b[i];
      max = Math.max(max, Math.abs(d));
    }
    double rel = norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
    return new Comparison(name, rel, max, true);
  }
}
