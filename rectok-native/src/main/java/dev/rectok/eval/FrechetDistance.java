package dev.rectok.eval;

import dev.rectok.api.DType;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * Fréchet distance between two Gaussians fitted to feature sets (the formula behind FID):
 *
 * <pre>
 *   d² = |μ₁ − μ₂|² + tr(Σ₁) + tr(Σ₂) − 2 tr((Σ₁ Σ₂)^½)
 * </pre>
 *
 * The last term is computed in the symmetric form {@code tr((Σ₁^½ Σ₂ Σ₁^½)^½)} (equal, since {@code
 * Σ₁ Σ₂} is similar to {@code Σ₁^½ Σ₂ Σ₁^½}), which is symmetric positive semi-definite, so both
 * square roots come from a symmetric eigen-decomposition ({@link Fid}, LAPACK) and no complex
 * arithmetic is needed. Eigenvalues that rounding made slightly negative are clamped to 0 before
 * the square root, and a result below 0 (rounding, for nearly identical statistics) is returned as
 * 0.
 *
 * <p>Statistics are kept in double precision: {@link Statistics#of} or an {@link Accumulator} fed
 * batch by batch. Covariances use the unbiased {@code 1/(n−1)} normalisation (as numpy's {@code
 * np.cov} and the reference FID code). Stateless and thread-safe; the accumulator is not.
 */
public final class FrechetDistance {
  private FrechetDistance() {}

  /**
   * Mean vector and covariance matrix of a feature set. The arrays are copied on construction and
   * by the accessors, so instances are immutable and thread-safe.
   *
   * @param mean μ, length D
   * @param covariance Σ, D×D, symmetric
   * @param count number of samples the statistics were computed from
   */
  public record Statistics(double[] mean, double[][] covariance, long count) {
    public Statistics {
      Objects.requireNonNull(mean, "mean");
      int d = SymmetricEigen.checkSquare(covariance);
      if (mean.length != d) {
        throw new IllegalArgumentException(
            "mean has length " + mean.length + " but covariance is " + d + "x" + d);
      }
      if (count < 2) {
        throw new IllegalArgumentException("statistics need at least 2 samples, got " + count);
      }
      mean = mean.clone();
      covariance = deepCopy(covariance);
    }

    /**
     * Statistics of features (N, D), N ≥ 2, any floating dtype and device. The caller keeps {@code
     * features}.
     */
    public static Statistics of(Tensor features) {
      return new Accumulator().add(features).statistics();
    }

    /** Σ as one row-major array of D·D values (for tensors and files). */
    public double[] covarianceRowMajor() {
      int d = mean.length;
      double[] out = new double[d * d];
      for (int i = 0; i < d; i++) {
        System.arraycopy(covariance[i], 0, out, i * d, d);
      }
      return out;
    }

    /** Feature dimension D. */
    public int dim() {
      return mean.length;
    }

    @Override
    public double[] mean() {
      return mean.clone();
    }

    @Override
    public double[][] covariance() {
      return deepCopy(covariance);
    }

    /** Equal when count, mean and covariance are equal element by element. */
    @Override
    public boolean equals(Object o) {
      return o instanceof Statistics s
          && count == s.count
          && Arrays.equals(mean, s.mean)
          && Arrays.deepEquals(covariance, s.covariance);
    }

    @Override
    public int hashCode() {
      return Objects.hash(count, Arrays.hashCode(mean), Arrays.deepHashCode(covariance));
    }

    @Override
    public String toString() {
      return "Statistics[dim=" + mean.length + ", count=" + count + "]";
    }
  }

  /**
   * Streaming mean/covariance over batches (N_i, D). Each batch is centred on its own mean in
   * float64 (two-pass within the batch, scatter {@code Xcᵀ Xc} by a native matmul), then merged
   * into the running totals with Chan et al.'s parallel update:
   *
   * <pre>
   *   n = n_a + n_b,  δ = μ_b − μ_a,  μ = μ_a + δ n_b / n,  M = M_a + M_b + δ δᵀ n_a n_b / n,  Σ = M / (n − 1)
   * </pre>
   *
   * so the result equals {@link Statistics#of} on the concatenation up to rounding and does not
   * suffer the cancellation of a raw sum-of-squares. Not thread-safe; holds no native memory (the
   * caller keeps every batch it passes).
   */
  public static final class Accumulator {
    private long count;
    private double[] mean;
    private double[][] m2;

    /** Adds a batch (N_i, D) with N_i ≥ 1 and finite values; D must match earlier batches. */
    public Accumulator add(Tensor batch) {
      Objects.requireNonNull(batch, "batch");
      if (batch.dim() != 2 || batch.size(0) < 1 || batch.size(1) < 1) {
        throw new IllegalArgumentException(
            "features must be (N, D) with N, D >= 1, got " + Arrays.toString(batch.shape()));
      }
      int d = Math.toIntExact(batch.size(1));
      if (mean != null && d != mean.length) {
        throw new IllegalArgumentException(
            "feature dimension " + d + " differs from earlier batches (" + mean.length + ")");
      }
      long nb = batch.size(0);
      double[] meanB;
      double[] m2B;
      try (Scope s = Scope.open()) {
        Tensor x = batch.to(DType.FLOAT64);
        if (x.isfinite().logicalNot().sum().itemLong() > 0) {
          throw new IllegalArgumentException("features contain NaN or infinite values");
        }
        Tensor mu = x.mean(new long[] {0}, true);
        Tensor xc = x.sub(mu);
        meanB = mu.toDoubleArray();
        m2B = xc.transpose(0, 1).matmul(xc).toDoubleArray();
      }
      if (mean == null) {
        count = nb;
        mean = meanB;
        m2 = new double[d][d];
        for (int i = 0; i < d; i++) {
          System.arraycopy(m2B, i * d, m2[i], 0, d);
        }
        return this;
      }
      long n = count + nb;
      double[] delta = new double[d];
      for (int i = 0; i < d; i++) {
        delta[i] = meanB[i] - mean[i];
        mean[i] += delta[i] * nb / n;
      }
      double w = (double) count * nb / n;
      for (int i = 0; i < d; i++) {
        double[] row = m2[i];
        for (int j = 0; j < d; j++) {
          row[j] += m2B[i * d + j] + delta[i] * delta[j] * w;
        }
      }
      count = n;
      return this;
    }

    /** Samples added so far. */
    public long count() {
      return count;
    }

    /** Mean and unbiased covariance of everything added; needs at least 2 samples. */
    public Statistics statistics() {
      if (count < 2) {
        throw new IllegalStateException("need at least 2 samples, have " + count);
      }
      int d = mean.length;
      double[][] cov = new double[d][d];
      for (int i = 0; i < d; i++) {
        for (int j = 0; j < d; j++) {
          cov[i][j] = 0.5 * (m2[i][j] + m2[j][i]) / (count - 1);
        }
      }
      return new Statistics(mean, cov, count);
    }
  }

  /**
   * The Fréchet distance (squared, as FID reports it) between two statistics of the same dimension:
   * {@link Fid#distance} with torch-fidelity's formula, clamped at 0 (rounding can make nearly
   * identical statistics come out slightly negative).
   */
  public static double distance(Statistics a, Statistics b) {
    Objects.requireNonNull(a, "a");
    Objects.requireNonNull(b, "b");
    return Math.max(0.0, Fid.distance(a, b, Fid.Protocol.TORCH_FIDELITY));
  }

  /**
   * Convenience: {@code distance(Statistics.of(a), Statistics.of(b))} for features (N, D) and (M,
   * D).
   */
  public static double distance(Tensor a, Tensor b) {
    return distance(Statistics.of(a), Statistics.of(b));
  }

  private static double[][] deepCopy(double[][] m) {
    double[][] c = new double[m.length][];
    for (int i = 0; i < m.length; i++) {
      c[i] = m[i].clone();
    }
    return c;
  }
}
