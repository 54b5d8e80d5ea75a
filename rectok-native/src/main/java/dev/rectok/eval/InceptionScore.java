package dev.rectok.eval;

import java.util.Objects;

/**
 * The Inception Score from logits (N, C), in float64, both ways the literature computes it (see
 * {@code docs/evaluation.md}):
 *
 * <ul>
 *   <li>{@link #torchFidelity}: the rows are permuted by {@code RandomState(2020).permutation(N)}
 *       ({@link NumpyRandomState}), split into {@code splits} chunks {@code [i·N/s, (i+1)·N/s)},
 *       and the mean and (population) standard deviation of {@code exp(mean KL(p ‖ p̄))} over the
 *       chunks are reported; torch-fidelity feeds it the {@code logits_unbiased} feature.
 *   <li>{@link #adm}: the ADM evaluator's: chunks of {@code splitSize} rows in file order (the last
 *       may be shorter), the mean of the chunk scores.
 * </ul>
 *
 * Stateless and thread-safe.
 */
public final class InceptionScore {
  private InceptionScore() {}

  /**
   * The score over the splits.
   *
   * @param mean mean of the split scores
   * @param std population standard deviation of the split scores
   */
  public record Result(double mean, double std) {}

  /**
   * torch-fidelity's {@code isc_features_to_metric(feature, splits, shuffle, rng_seed)}.
   *
   * @param logits N rows of C logits, row-major (N·C values)
   * @throws IllegalArgumentException when N &lt; splits or values are not finite
   */
  public static Result torchFidelity(
      float[] logits, int n, int c, int splits, boolean shuffle, long seed) {
    check(logits, n, c);
    if (splits < 1 || n < splits) {
      throw new IllegalArgumentException(
          "the Inception Score needs at least as many samples as splits ("
              + splits
              + "), got "
              + n);
    }
    int[] order = shuffle ? new NumpyRandomState(seed).permutation(n) : identity(n);
    double[] scores = new double[splits];
    for (int i = 0; i < splits; i++) {
      int from = (int) ((long) i * n / splits);
      int to = (int) ((long) (i + 1) * n / splits);
      scores[i] = chunkScore(logits, order, from, to, c);
    }
    double mean = 0;
    for (double s : scores) {
      mean += s;
    }
    mean /= splits;
    double var = 0;
    for (double s : scores) {
      var += (s - mean) * (s - mean);
    }
    return new Result(mean, Math.sqrt(var / splits));
  }

  /** The ADM evaluator's {@code compute_inception_score(activations, split_size)} on logits. */
  public static double adm(float[] logits, int n, int c, int splitSize) {
    check(logits, n, c);
    if (splitSize < 1 || n < 1) {
      throw new IllegalArgumentException("split size and sample count must be positive");
    }
    int[] order = identity(n);
    double sum = 0;
    int k = 0;
    for (int from = 0; from < n; from += splitSize) {
      sum += chunkScore(logits, order, from, Math.min(n, from + splitSize), c);
      k++;
    }
    return sum / k;
  }

  private static void check(float[] logits, int n, int c) {
    Objects.requireNonNull(logits, "logits");
    if (c < 1 || (long) n * c != logits.length) {
      throw new IllegalArgumentException(
          "logits have " + logits.length + " values, not " + n + " x " + c);
    }
    for (float v : logits) {
      if (!Float.isFinite(v)) {
        throw new IllegalArgumentException("logits contain NaN or infinite values");
      }
    }
  }

  private static int[] identity(int n) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = i;
    }
    return a;
  }

  // softmax and log_softmax of one row in float64 (as torch's, max-shifted)
  private static double[][] softmax(float[] logits, int row, int c) {
    double max = Double.NEGATIVE_INFINITY;
    int off = row * c;
    for (int j = 0; j < c; j++) {
      max = Math.max(max, logits[off + j]);
    }
    double sum = 0;
    for (int j = 0; j < c; j++) {
      sum += Math.exp(logits[off + j] - max);
    }
    double lse = Math.log(sum);
    double[] p = new double[c];
    double[] lp = new double[c];
    for (int j = 0; j < c; j++) {
      lp[j] = logits[off + j] - max - lse;
      p[j] = Math.exp(lp[j]);
    }
    return new double[][] {p, lp};
  }

  // Rows order[from..to): two passes (the mean distribution, then the KL), so memory stays O(C).
  private static double chunkScore(float[] logits, int[] order, int from, int to, int c) {
    double[] q = new double[c];
    for (int r = from; r < to; r++) {
      double[] p = softmax(logits, order[r], c)[0];
      for (int j = 0; j < c; j++) {
        q[j] += p[j];
      }
    }
    for (int j = 0; j < c; j++) {
      q[j] = Math.log(q[j] / (to - from));
    }
    double kl = 0;
    for (int r = from; r < to; r++) {
      double[][] pl = softmax(logits, order[r], c);
      double row = 0;
      for (int j = 0; j < c; j++) {
        row += pl[0][j] * (pl[1][j] - q[j]);
      }
      kl += row;
    }
    return Math.exp(kl / (to - from));
  }
}
