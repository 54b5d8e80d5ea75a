package dev.rectok.eval;

import dev.rectok.eval.FrechetDistance.Statistics;
import dev.rectok.torch.Linalg;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.util.Objects;

/**
 * FID in float64 with the two formulas evaluations publish (see {@code docs/evaluation.md}):
 *
 * <ul>
 *   <li>{@link Protocol#TORCH_FIDELITY}: torch-fidelity's {@code fid_statistics_to_metric}: {@code
 *       |μ₁−μ₂|² + tr Σ₁ + tr Σ₂ − 2 Σ Re √eig(Σ₁Σ₂)} (an eigenvalue below zero contributes
 *       nothing, as the real part of its complex root).
 *   <li>{@link Protocol#ADM}: the ADM evaluator's {@code frechet_distance}: the same with {@code tr
 *       sqrtm(Σ₁Σ₂)}, retried with {@code 1e-6} added to both diagonals when the square root is not
 *       finite.
 * </ul>
 *
 * Both traces are computed as {@code Σ √max(λ, 0)} over the eigenvalues of the symmetric {@code
 * Σ₁^½ Σ₂ Σ₁^½} (LAPACK through {@link Linalg}), which has the eigenvalues of {@code Σ₁Σ₂}; the
 * formulas agree to about 1e-12 relative on well-conditioned statistics (the golden case checks
 * both). Unlike {@link FrechetDistance#distance} nothing is clamped: a tiny negative FID is
 * reported as computed, as the references do. Stateless and thread-safe.
 */
public final class Fid {
  private Fid() {}

  /** Which reference formula and conventions. */
  public enum Protocol {
    /** torch-fidelity (RecTok's own evaluation). */
    TORCH_FIDELITY("torch-fidelity"),
    /**
     * openai/guided-diffusion {@code evaluations/evaluator.py} (RAE, REPA-E, LightningDiT, DDT).
     */
    ADM("adm");

    private final String key;

    Protocol(String key) {
      this.key = key;
    }

    /** The command-line name. */
    public String key() {
      return key;
    }

    /** The protocol named {@code key}; an exception naming the allowed values otherwise. */
    public static Protocol of(String key) {
      for (Protocol p : values()) {
        if (p.key.equals(key)) {
          return p;
        }
      }
      throw new IllegalArgumentException(
          "protocol must be torch-fidelity or adm, got '" + key + "'");
    }
  }

  /** The ADM evaluator's diagonal offset for a non-finite square root. */
  public static final double ADM_EPS = 1e-6;

  /**
   * FID between two statistics of the same dimension, with {@code protocol}'s formula.
   *
   * @throws IllegalArgumentException when dimensions differ or a value is not finite
   */
  public static double distance(Statistics a, Statistics b, Protocol protocol) {
    Objects.requireNonNull(protocol, "protocol");
    checkFinite(a, "first");
    checkFinite(b, "second");
    if (a.dim() != b.dim()) {
      throw new IllegalArgumentException(
          "feature dimensions differ: "
              + a.dim()
              + " vs "
              + b.dim()
              + " (compare statistics of the same Inception feature)");
    }
    double[] mu1 = a.mean();
    double[] mu2 = b.mean();
    double[][] s1 = a.covariance();
    double[][] s2 = b.covariance();
    int d = mu1.length;
    double meanTerm = 0;
    double traces = 0;
    for (int i = 0; i < d; i++) {
      double diff = mu1[i] - mu2[i];
      meanTerm += diff * diff;
      traces += s1[i][i] + s2[i][i];
    }
    double tr = traceSqrtProduct(a, b);
    if (protocol == Protocol.ADM && !Double.isFinite(tr)) {
      for (int i = 0; i < d; i++) {
        s1[i][i] += ADM_EPS;
        s2[i][i] += ADM_EPS;
      }
      tr = traceSqrtProduct(new Statistics(mu1, s1, a.count()), new Statistics(mu2, s2, b.count()));
    }
    return meanTerm + traces - 2 * tr;
  }

  /**
   * {@code Σ √max(λ, 0)} over the eigenvalues of {@code Σ₁Σ₂}, in float64 through LibTorch ({@code
   * linalg.eigh} of Σ₁ for its square root R, then {@code linalg.eigvalsh} of {@code R Σ₂ R}).
   */
  static double traceSqrtProduct(Statistics s1, Statistics s2) {
    int d = s1.dim();
    try (Scope s = Scope.open()) {
      Tensor a = Tensor.of(s1.covarianceRowMajor(), d, d);
      Tensor b = Tensor.of(s2.covarianceRowMajor(), d, d);
      Tensor[] eig = Linalg.eigh(a);
      Tensor v = eig[1];
      Tensor r =
          v.mul(eig[0].clamp(0.0, Double.POSITIVE_INFINITY).sqrt().unsqueeze(0))
              .matmul(v.transpose(0, 1));
      Tensor m = r.matmul(b).matmul(r);
      m = m.add(m.transpose(0, 1)).mul(0.5);
      double tr = 0;
      for (double w : Linalg.eigvalsh(m).toDoubleArray()) {
        tr += Math.sqrt(Math.max(w, 0.0));
      }
      return tr;
    }
  }

  /**
   * The statistics torch-fidelity keeps: the mean rounded to float32 (it is {@code np.mean} of
   * float32 features), the covariance in float64.
   */
  public static Statistics withFloat32Mean(Statistics s) {
    double[] mu = s.mean();
    for (int i = 0; i < mu.length; i++) {
      mu[i] = (float) mu[i];
    }
    return new Statistics(mu, s.covariance(), s.count());
  }

  private static void checkFinite(Statistics s, String which) {
    Objects.requireNonNull(s, which);
    for (double v : s.mean()) {
      if (!Double.isFinite(v)) {
        throw new IllegalArgumentException(
            "the " + which + " statistics' mean has NaN or infinite values");
      }
    }
    for (double[] row : s.covariance()) {
      for (double v : row) {
        if (!Double.isFinite(v)) {
          throw new IllegalArgumentException(
              "the " + which + " statistics' covariance has NaN or infinite values");
        }
      }
    }
  }
}
