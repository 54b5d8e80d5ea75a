package dev.rectok.api;

import java.util.Locale;

/**
 * Numeric precision of an inference call (issue 13): what the generator's and the tokenizer's
 * matrix products run in. Immutable and thread-safe.
 *
 * <ul>
 *   <li>{@link #FP32}: everything in float32, exactly today's numerics (the golden files).
 *   <li>{@link #BF16}: weights converted to bfloat16 once, GEMMs and attention's two products in
 *       bfloat16; norms, softmax statistics, RoPE, adaLN modulation, the time embedding's Fourier
 *       features, the sampler's state and the guidance arithmetic stay float32 (what the
 *       reference's {@code torch.autocast(dtype=torch.bfloat16)} keeps in float32). Refused on a
 *       CPU without AVX-512 BF16 or AMX, where it would be slower than float32.
 *   <li>{@link #AUTO}: {@link #BF16} on CUDA and on CPUs with AVX-512 BF16 or AMX, {@link #FP32}
 *       elsewhere.
 * </ul>
 */
public enum Precision {
  /** Float32 throughout. */
  FP32,
  /** Bfloat16 GEMMs and attention, float32 statistics and state. */
  BF16,
  /** BF16 where the hardware has native bf16 arithmetic, else FP32. */
  AUTO;

  /**
   * The command-line spelling.
   *
   * @return {@code fp32}, {@code bf16} or {@code auto}
   */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses {@code fp32}, {@code bf16} or {@code auto} (case-insensitive; {@code float32} and {@code
   * bfloat16} are accepted too).
   *
   * @param name the spelling
   * @return the precision
   * @throws IllegalArgumentException naming the allowed values
   */
  public static Precision parse(String name) {
    return switch (name == null ? "" : name.toLowerCase(Locale.ROOT)) {
      case "fp32", "float32" -> FP32;
      case "bf16", "bfloat16" -> BF16;
      case "auto" -> AUTO;
      default ->
          throw new IllegalArgumentException(
              "precision must be fp32, bf16 or auto, got '" + name + "'");
    };
  }
}
