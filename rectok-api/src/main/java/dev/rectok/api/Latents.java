package dev.rectok.api;

import java.util.Arrays;
import java.util.Objects;

/**
 * A batch of tokenizer latents as plain floats, channels first: {@code values[((b*C + c)*H + h)*W +
 * w]}. For RecTok at 256×256 a sample is 128 × 16 × 16.
 *
 * <p>{@code normalized} says whether the per-channel latent statistics were applied ({@code (z −
 * mean_c) / std_c}, the space the generator works in) or not (the raw posterior). An immutable
 * value (the array is copied in and out); thread-safe.
 *
 * @param values the floats, {@code batch * channels * height * width} of them
 * @param batch samples
 * @param channels latent channels
 * @param height latent grid rows
 * @param width latent grid columns
 * @param normalized whether channel-normalized with the latent statistics
 */
public record Latents(
    float[] values, int batch, int channels, int height, int width, boolean normalized) {
  /** Checks the shape against the values and copies them. */
  public Latents {
    Objects.requireNonNull(values, "values");
    if (batch < 0 || channels <= 0 || height <= 0 || width <= 0) {
      throw new IllegalArgumentException(
          "invalid latent shape (" + batch + ", " + channels + ", " + height + ", " + width + ")");
    }
    long n = (long) batch * channels * height * width;
    if (values.length != n) {
      throw new IllegalArgumentException(
          "latents of shape ("
              + batch
              + ", "
              + channels
              + ", "
              + height
              + ", "
              + width
              + ") need "
              + n
              + " values, got "
              + values.length);
    }
    values = values.clone();
  }

  /**
   * A copy of the values.
   *
   * @return a copy of the values
   */
  @Override
  public float[] values() {
    return values.clone();
  }

  /**
   * The shape {@code (batch, channels, height, width)}.
   *
   * @return {@code (batch, channels, height, width)}
   */
  public long[] shape() {
    return new long[] {batch, channels, height, width};
  }

  /**
   * Sample {@code i} as a batch of one.
   *
   * @param i the sample index
   * @return sample {@code i} as a batch of one
   */
  public Latents sample(int i) {
    Objects.checkIndex(i, batch);
    int per = channels * height * width;
    return new Latents(
        Arrays.copyOfRange(values, i * per, (i + 1) * per), 1, channels, height, width, normalized);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Latents l
        && l.batch == batch
        && l.channels == channels
        && l.height == height
        && l.width == width
        && l.normalized == normalized
        && Arrays.equals(l.values, values);
  }

  @Override
  public int hashCode() {
    return Objects.hash(batch, channels, height, width, normalized, Arrays.hashCode(values));
  }

  @Override
  public String toString() {
    return "Latents["
        + batch
        + "x"
        + channels
        + "x"
        + height
        + "x"
        + width
        + (normalized ? ", normalized" : ", raw")
        + "]";
  }
}
