package dev.rectok.eval;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.util.Objects;

/**
 * Kernel Inception Distance as torch-fidelity computes it ({@code metric_kid.py}, see {@code
 * docs/evaluation.md}): {@code subsets} times, draw {@code subsetSize} rows of each feature set
 * without replacement from one {@code numpy.random.RandomState(seed)} (first set, then second,
 * alternating), evaluate the polynomial kernel {@code k(x, y) = (γ x·y + coef0)^degree} (γ = 1/D
 * unless given) and the unbiased MMD² estimate
 *
 * <pre>
 *   MMD² = (Σ_{i≠j} k(xᵢ,xⱼ) + Σ_{i≠j} k(yᵢ,yⱼ)) / (m(m−1)) − 2 Σ_{i,j} k(xᵢ,yⱼ) / m²
 * </pre>
 *
 * and report the mean and the population standard deviation ({@code np.std}) over the subsets. The
 * subsets are torch-fidelity's exactly; the arithmetic is float64 throughout, where torch-fidelity
 * multiplies its float32 features in float32 (so it agrees with us to float32 rounding of the
 * kernel sums, not bit for bit). Stateless; thread-safe.
 */
public final class KernelInceptionDistance {
  private KernelInceptionDistance() {}

  /**
   * torch-fidelity's KID settings.
   *
   * @param subsets number of subsets ({@code kid_subsets}, default 100)
   * @param subsetSize rows per subset ({@code kid_subset_size}, default 1000); both sets need at
   *     least this many
   * @param degree polynomial degree ({@code kid_kernel_poly_degree}, default 3)
   * @param gamma kernel scale ({@code kid_kernel_poly_gamma}); NaN means torch-fidelity's default
   *     1/D
   * @param coef0 kernel offset ({@code kid_kernel_poly_coef0}, default 1)
   * @param seed the RandomState seed ({@code rng_seed}, default 2020)
   */
  public record Options(
      int subsets, int subsetSize, int degree, double gamma, double coef0, long seed) {
    /** torch-fidelity's defaults. */
    public static final Options DEFAULTS = new Options(100, 1000, 3, Double.NaN, 1, 2020);

    /** Validates the settings. */
    public Options {
      if (subsets < 1) {
        throw new IllegalArgumentException("KID needs at least 1 subset, got " + subsets);
      }
      if (subsetSize < 2) {
        throw new IllegalArgumentException(
            "the KID subset size must be at least 2 (the unbiased estimate divides by m(m-1)), got "
                + subsetSize);
      }
      if (degree < 1) {
        throw new IllegalArgumentException("the kernel degree must be at least 1, got " + degree);
      }
      if (!Double.isNaN(gamma) && !(Double.isFinite(gamma) && gamma > 0)) {
        throw new IllegalArgumentException("gamma must be positive and finite, got " + gamma);
      }
      if (!Double.isFinite(coef0)) {
        throw new IllegalArgumentException("coef0 must be finite, got " + coef0);
      }
      if (seed < 0 || seed > 0xffffffffL) {
        throw new IllegalArgumentException("the seed must be in [0, 2^32 - 1], got " + seed);
      }
    }

    /** The same settings with {@code subsets} and {@code subsetSize} replaced. */
    public Options withSubsets(int subsets, int subsetSize) {
      return new Options(subsets, subsetSize, degree, gamma, coef0, seed);
    }
  }

  /**
   * The outcome.
   *
   * @param mean {@code kernel_inception_distance_mean}
   * @param std {@code kernel_inception_distance_std} (population standard deviation)
   * @param perSubset the MMD² of every subset, in draw order
   */
  public record Result(double mean, double std, double[] perSubset) {
    /** Copies the per-subset values. */
    public Result {
      perSubset = perSubset.clone();
    }

    @Override
    public double[] perSubset() {
      return perSubset.clone();
    }
  }

  /**
   * KID between two feature sets, each row-major {@code n × dim} floats (the 2048-d pool features
   * for the metric).
   *
   * @throws IllegalArgumentException when a set has fewer rows than the subset size (as
   *     torch-fidelity refuses), the shapes disagree, or a value is not finite
   */
  public static Result compute(
      float[] features1, int n1, float[] features2, int n2, int dim, Options o) {
    Objects.requireNonNull(o, "options");
    check(features1, n1, dim, "first");
    check(features2, n2, dim, "second");
    int m = o.subsetSize();
    if (n1 < m || n2 < m) {
      throw new IllegalArgumentException(
          "the KID subset size "
              + m
              + " is larger than the number of samples (first set: "
              + n1
              + ", second set: "
              + n2
              + "); lower it with --kid-subset-size");
    }
    double gamma = Double.isNaN(o.gamma()) ? 1.0 / dim : o.gamma();
    NumpyRandomState rng = new NumpyRandomState(o.seed());
    double[] mmds = new double[o.subsets()];
    for (int s = 0; s < o.subsets(); s++) {
      int[] i1 = rng.choice(n1, m);
      int[] i2 = rng.choice(n2, m);
      mmds[s] = mmd2(rows(features1, i1, dim), rows(features2, i2, dim), m, dim, gamma, o);
    }
    double mean = 0;
    for (double v : mmds) {
      mean += v;
    }
    mean /= mmds.length;
    double var = 0;
    for (double v : mmds) {
      var += (v - mean) * (v - mean);
    }
    return new Result(mean, Math.sqrt(var / mmds.length), mmds);
  }

  /** The subsets' row indices as torch-fidelity draws them: {@code [subset][0 = first set, 1]}. */
  public static int[][][] subsetIndices(int n1, int n2, Options o) {
    NumpyRandomState rng = new NumpyRandomState(o.seed());
    int[][][] out = new int[o.subsets()][][];
    for (int s = 0; s < o.subsets(); s++) {
      out[s] = new int[][] {rng.choice(n1, o.subsetSize()), rng.choice(n2, o.subsetSize())};
    }
    return out;
  }

  private static void check(float[] f, int n, int dim, String which) {
    Objects.requireNonNull(f, which);
    if (n < 0 || dim < 1 || (long) n * dim != f.length) {
      throw new IllegalArgumentException(
          "the " + which + " feature set has " + f.length + " values, not " + n + " × " + dim);
    }
    for (float v : f) {
      if (!Float.isFinite(v)) {
        throw new IllegalArgumentException(
            "the " + which + " feature set contains NaN or infinite values");
      }
    }
  }

  private static double[] rows(float[] f, int[] idx, int dim) {
    double[] out = new double[idx.length * dim];
    for (int r = 0; r < idx.length; r++) {
      int from = idx[r] * dim;
      for (int c = 0; c < dim; c++) {
        out[r * dim + c] = f[from + c];
      }
    }
    return out;
  }

  // The unbiased MMD² of one subset pair; the Gram matrices go through a native float64 matmul,
  // the kernel and the sums are taken here.
  private static double mmd2(double[] x, double[] y, int m, int dim, double gamma, Options o) {
    double[] gxx;
    double[] gyy;
    double[] gxy;
    try (Scope s = Scope.open()) {
      Tensor tx = Tensor.of(x, m, dim);
      Tensor ty = Tensor.of(y, m, dim);
      gxx = tx.matmul(tx.transpose(0, 1)).toDoubleArray();
      gyy = ty.matmul(ty.transpose(0, 1)).toDoubleArray();
      gxy = tx.matmul(ty.transpose(0, 1)).toDoubleArray();
    }
    double sxx = 0;
    double syy = 0;
    double sxy = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        int k = i * m + j;
        if (i != j) {
          sxx += kernel(gxx[k], gamma, o);
          syy += kernel(gyy[k], gamma, o);
        }
        sxy += kernel(gxy[k], gamma, o);
      }
    }
    return (sxx + syy) / ((double) m * (m - 1)) - 2 * sxy / ((double) m * m);
  }

  private static double kernel(double dot, double gamma, Options o) {
    double b = dot * gamma + o.coef0();
    return o.degree() == 3 ? b * b * b : Math.pow(b, o.degree());
  }
}
