package dev.rectok.models.stats;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.AtomicFiles;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The per-channel latent normalization statistics of a tokenizer
 * (docs/tokenizer.md#latent-statistics): the population mean and std of each posterior-mean channel
 * over all tokens of all images of a dataset, as {@code RecTok.reset_stats} expects them. The
 * release ships none; {@link StatisticsCollector} computes them.
 *
 * <p>Stored as a small JSON file ({@link #write}/{@link #read}); floats are written in their
 * shortest round-tripping decimal form, so a round trip is exact.
 *
 * <p><b>Threading and ownership.</b> Immutable: the arrays are copied in and out. Thread-safe.
 *
 * @param mean per-channel mean, length C
 * @param std per-channel population std, length C, every value finite and positive
 * @param count tokens per channel the statistics cover (images × tokens per image)
 * @param images images the statistics cover
 */
public record LatentStatistics(float[] mean, float[] std, long count, long images) {
  /** The {@code format} tag of the JSON file. */
  public static final String FORMAT = "rectok-latent-statistics";

  /** The JSON file version this class writes and reads. */
  public static final int VERSION = 1;

  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

  static ObjectMapper json() {
    return JSON;
  }

  /**
   * Parses a JSON document like {@code readTree}, except that every fractional number keeps the
   * float parsed directly from its literal text ({@link Float#parseFloat}): no double rounding, and
   * {@code -0.0} keeps its sign. That makes float round trips exact.
   */
  static JsonNode readJson(byte[] bytes) throws IOException {
    try (JsonParser p = JSON.createParser(bytes)) {
      if (p.nextToken() == null) {
        throw new JsonParseException(p, "empty document");
      }
      JsonNode root = node(p);
      if (p.nextToken() != null) {
        throw new JsonParseException(p, "trailing content after the JSON value");
      }
      return root;
    }
  }

  private static JsonNode node(JsonParser p) throws IOException {
    JsonNodeFactory f = JsonNodeFactory.instance;
    JsonToken t = p.currentToken();
    switch (t) {
      case START_OBJECT -> {
        ObjectNode o = f.objectNode();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          p.nextToken();
          o.set(name, node(p));
        }
        return o;
      }
      case START_ARRAY -> {
        ArrayNode a = f.arrayNode();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          a.add(node(p));
        }
        return a;
      }
      case VALUE_STRING -> {
        return f.textNode(p.getText());
      }
      case VALUE_NUMBER_INT -> {
        return p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
            ? f.numberNode(p.getBigIntegerValue())
            : f.numberNode(p.getLongValue());
      }
      case VALUE_NUMBER_FLOAT -> {
        String text = p.getText();
        return new ExactFloatNode(new BigDecimal(text), Float.parseFloat(text));
      }
      case VALUE_TRUE, VALUE_FALSE -> {
        return f.booleanNode(t == JsonToken.VALUE_TRUE);
      }
      case VALUE_NULL -> {
        return f.nullNode();
      }
      default -> throw new JsonParseException(p, "unexpected token " + t);
    }
  }

  /** A JSON fraction that also holds the float its literal denotes. */
  private static final class ExactFloatNode extends DecimalNode {
    private final float exact;

    ExactFloatNode(BigDecimal value, float exact) {
      super(value);
      this.exact = exact;
    }

    @Override
    public float floatValue() {
      return exact;
    }
  }

  /**
   * Validates and copies.
   *
   * @throws IllegalArgumentException for empty or different lengths, non-finite values, a std that
   *     is not positive, or negative counts
   */
  public LatentStatistics {
    String problem = problem(mean, std, count, images);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
    mean = mean.clone();
    std = std.clone();
  }

  private static String problem(float[] mean, float[] std, long count, long images) {
    if (mean == null || std == null) {
      return "mean and std are required";
    }
    if (mean.length == 0) {
      return "no channels";
    }
    if (mean.length != std.length) {
      return "mean has " + mean.length + " channels but std has " + std.length;
    }
    for (int c = 0; c < mean.length; c++) {
      if (!Float.isFinite(mean[c])) {
        return "mean of channel " + c + " is not finite: " + mean[c];
      }
      if (!Float.isFinite(std[c]) || !(std[c] > 0f)) {
        return "std of channel " + c + " must be finite and positive, got " + std[c];
      }
    }
    if (count < 0 || images < 0) {
      return "negative count (" + count + ") or images (" + images + ")";
    }
    return null;
  }

  /** Number of channels C. */
  public int channels() {
    return mean.length;
  }

  /** A copy of the means. */
  @Override
  public float[] mean() {
    return mean.clone();
  }

  /** A copy of the stds. */
  @Override
  public float[] std() {
    return std.clone();
  }

  /** The mean of channel {@code c}. */
  public float mean(int c) {
    return mean[c];
  }

  /** The std of channel {@code c}. */
  public float std(int c) {
    return std[c];
  }

  /**
   * Installs these statistics in {@code tok} with {@link RecTok#resetStats(Tensor, Tensor)}, as (1,
   * 1, C) buffers. Like {@code resetStats}, call it on the thread that owns the model, before
   * concurrent use.
   *
   * @throws IllegalArgumentException when C differs from the tokenizer's token channels
   */
  public void normalizeWith(RecTok tok) {
    int c = tok.config().tokenChannels();
    if (c != mean.length) {
      throw new IllegalArgumentException(
          "statistics have " + mean.length + " channels but the tokenizer has " + c);
    }
    try (Scope s = Scope.open()) {
      tok.resetStats(Tensor.of(mean, c), Tensor.of(std, c));
    }
  }

  /** Writes the JSON file atomically (temp file, fsync, rename). */
  public void write(Path file) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("version", VERSION);
    root.put("channels", mean.length);
    root.put("count", count);
    root.put("images", images);
    ArrayNode m = root.putArray("mean");
    ArrayNode s = root.putArray("std");
    for (int c = 0; c < mean.length; c++) {
      m.add(mean[c]);
      s.add(std[c]);
    }
    AtomicFiles.write(file, JSON.writeValueAsBytes(root));
  }

  /**
   * Reads and validates a file written by {@link #write}.
   *
   * @throws IOException when the file is missing, is not JSON, is not a statistics file of this
   *     version, or holds invalid values (lengths, non-finite numbers, std ≤ 0); the message names
   *     the file and the problem
   */
  public static LatentStatistics read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException("latent statistics file not found: " + file);
    }
    JsonNode root;
    try {
      root = readJson(Files.readAllBytes(file));
    } catch (JsonProcessingException e) {
      throw new IOException(
          "latent statistics file " + file + " is not valid JSON: " + e.getOriginalMessage(), e);
    }
    try {
      if (root == null || !root.isObject()) {
        throw bad("not a JSON object");
      }
      if (!FORMAT.equals(text(root, "format"))) {
        throw bad("format is not \"" + FORMAT + "\"");
      }
      long version = integer(root, "version");
      if (version != VERSION) {
        throw bad("unsupported version " + version + " (this reader knows " + VERSION + ")");
      }
      long channels = integer(root, "channels");
      float[] mean = floats(root, "mean");
      float[] std = floats(root, "std");
      if (mean.length != channels || std.length != channels) {
        throw bad(
            "channels is "
                + channels
                + " but mean has "
                + mean.length
                + " and std "
                + std.length
                + " values");
      }
      long count = integer(root, "count");
      long images = integer(root, "images");
      String problem = problem(mean, std, count, images);
      if (problem != null) {
        throw bad(problem);
      }
      return new LatentStatistics(mean, std, count, images);
    } catch (IllegalArgumentException e) {
      throw new IOException("invalid latent statistics file " + file + ": " + e.getMessage(), e);
    }
  }

  private static IllegalArgumentException bad(String msg) {
    return new IllegalArgumentException(msg);
  }

  static String text(JsonNode root, String field) {
    JsonNode n = root.get(field);
    if (n == null || !n.isTextual()) {
      throw bad("field \"" + field + "\" missing or not a string");
    }
    return n.textValue();
  }

  static long integer(JsonNode root, String field) {
    JsonNode n = root.get(field);
    if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
      throw bad("field \"" + field + "\" missing or not an integer");
    }
    return n.longValue();
  }

  /**
   * A float array from a tree made by {@link #readJson} (each value parsed from its literal text).
   */
  static float[] floats(JsonNode root, String field) {
    JsonNode n = root.get(field);
    if (n == null || !n.isArray()) {
      throw bad("field \"" + field + "\" missing or not an array");
    }
    float[] out = new float[n.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode v = n.get(i);
      if (v == null || !v.isNumber()) {
        throw bad(field + "[" + i + "] is not a number");
      }
      out[i] = v.floatValue(); // exact: see readJson
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LatentStatistics s
        && count == s.count
        && images == s.images
        && Arrays.equals(mean, s.mean)
        && Arrays.equals(std, s.std);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * Arrays.hashCode(mean) + Arrays.hashCode(std))
        + Long.hashCode(count * 31 + images);
  }

  @Override
  public String toString() {
    return "LatentStatistics[channels="
        + mean.length
        + ", count="
        + count
        + ", images="
        + images
        + ", mean="
        + Arrays.toString(mean)
        + ", std="
        + Arrays.toString(std)
        + "]";
  }
}
