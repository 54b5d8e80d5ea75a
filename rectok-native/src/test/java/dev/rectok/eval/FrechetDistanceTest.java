package dev.rectok.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.rectok.api.DType;
import dev.rectok.eval.FrechetDistance.Statistics;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class FrechetDistanceTest {

  private static double[][] diag(double... d) {
    double[][] m = new double[d.length][d.length];
    for (int i = 0; i < d.length; i++) {
      m[i][i] = d[i];
    }
    return m;
  }

  private static Tensor features(double[][] rows) {
    int n = rows.length;
    int d = rows[0].length;
    double[] flat = new double[n * d];
    for (int i = 0; i < n; i++) {
      System.arraycopy(rows[i], 0, flat, i * d, d);
    }
    return Tensor.of(flat, n, d);
  }

  @Test
  void distanceOfIdenticalFeaturesIsZero() throws Exception {
    Leaks.check(
        () -> {
          try (Scope s = Scope.open();
              TorchGenerator g = TorchGenerator.cpu(1)) {
            Tensor x = Tensor.randn(g, 500, 32).mul(3).add(1);
            Statistics st = Statistics.of(x);
            double trace = 0;
            for (int i = 0; i < 32; i++) {
              trace += st.covariance()[i][i];
            }
            double fid = FrechetDistance.distance(x, x);
            assertThat(fid).isCloseTo(0.0, within(1e-9 * trace));
            assertThat(FrechetDistance.distance(st, st)).isCloseTo(0.0, within(1e-9 * trace));
          }
        });
  }

  @Test
  void diagonalCovariancesMatchTheClosedForm() {
    double[] mu1 = {0, 1, -2, 0.5};
    double[] mu2 = {1, 1, 0, -0.5};
    double[] s1 = {1, 4, 0.25, 9};
    double[] s2 = {4, 1, 0.25, 0};
    double expected = 0;
    for (int i = 0; i < 4; i++) {
      expected += Math.pow(mu1[i] - mu2[i], 2) + s1[i] + s2[i] - 2 * Math.sqrt(s1[i] * s2[i]);
    }
    double fid =
        FrechetDistance.distance(
            new Statistics(mu1, diag(s1), 10), new Statistics(mu2, diag(s2), 10));
    assertThat(fid).isCloseTo(expected, within(1e-12));
    assertThat(expected)
        .isCloseTo(1 + 0 + 4 + 1 + (1 + 4 - 4) + (4 + 1 - 4) + 0 + 9, within(1e-12));
  }

  /** Non-commuting 2×2 case: for M with positive eigenvalues, tr √M = √(tr M + 2 √det M). */
  @Test
  void nonCommutingCovariancesMatchTheTwoByTwoFormula() {
    double[][] s1 = {{2, 1}, {1, 3}};
    double[][] s2 = {{1, -0.5}, {-0.5, 2}};
    double[][] m = SymmetricEigen.multiply(s1, s2);
    double trM = m[0][0] + m[1][1];
    double detM = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    double expected = 2 + 3 + 1 + 2 - 2 * Math.sqrt(trM + 2 * Math.sqrt(detM));
    double[] zero = {0, 0};
    assertThat(FrechetDistance.distance(new Statistics(zero, s1, 5), new Statistics(zero, s2, 5)))
        .isCloseTo(expected, within(1e-12));
    // and it is symmetric in its arguments
    assertThat(FrechetDistance.distance(new Statistics(zero, s2, 5), new Statistics(zero, s1, 5)))
        .isCloseTo(expected, within(1e-12));
  }

  /**
   * Against the reference implementation (pytorch-fid's {@code calculate_frechet_distance}: numpy
   * mean, {@code np.cov(rowvar=False)}, {@code scipy.linalg.sqrtm(s1 @ s2).real}), evaluated once
   * offline on these closed-form features: 7.076316975426698 (scipy 1.17, numpy 2.4). The first set
   * spans only two directions in a second variant (a singular covariance), whose reference
   * (11.143031983214987) came from numpy's eigh in the same symmetric form, since scipy's sqrtm
   * warns and loses digits on singular products.
   */
  @Test
  void matchesTheReferenceImplementation() throws Exception {
    double[][] a = new double[50][8];
    double[][] singular = new double[50][8];
    double[][] b = new double[70][8];
    for (int i = 0; i < 50; i++) {
      for (int j = 0; j < 8; j++) {
        a[i][j] = Math.sin(0.7 * i * (j + 1) + 1.3 * j) + 0.1 * j;
        singular[i][j] = Math.sin(0.7 * i + 1.3 * j * j) + 0.1 * j;
      }
    }
    for (int i = 0; i < 70; i++) {
      for (int j = 0; j < 8; j++) {
        b[i][j] = Math.cos(0.3 * i * (j + 1) + 0.5 * j) * (1 + 0.2 * j);
      }
    }
    Leaks.check(
        () -> {
          try (Tensor ta = features(a);
              Tensor ts = features(singular);
              Tensor tb = features(b)) {
            assertThat(FrechetDistance.distance(ta, tb))
                .isCloseTo(7.076316975426698, within(1e-10));
            // singular Σ₁: zero eigenvalues come out as ±ε‖Σ‖ ≈ 1e-16 and their square roots as
            // ~1e-8, in
            // any implementation (scipy's sqrtm gives 11.14303199927), so only ~1e-8 is meaningful
            // here
            assertThat(FrechetDistance.distance(ts, tb))
                .isCloseTo(11.143031983214987, within(1e-7));
          }
        });
  }

  @Property(tries = 30)
  void anySplitIntoBatchesGivesTheOneShotStatistics(
      @ForAll @IntRange(min = 2, max = 60) int n,
      @ForAll @IntRange(min = 1, max = 5) int d,
      @ForAll long seed)
      throws Exception {
    Random r = new Random(seed);
    double[][] rows = new double[n][d];
    for (double[] row : rows) {
      for (int j = 0; j < d; j++) {
        row[j] = 100 + r.nextGaussian() * (j + 1);
      }
    }
    Leaks.check(
        () -> {
          try (Tensor x = features(rows);
              Scope s = Scope.open()) {
            Statistics whole = Statistics.of(x);
            FrechetDistance.Accumulator acc = new FrechetDistance.Accumulator();
            int at = 0;
            while (at < n) {
              int len = 1 + r.nextInt(n - at);
              acc.add(x.narrow(0, at, len));
              at += len;
            }
            Statistics merged = acc.statistics();
            assertThat(merged.count()).isEqualTo(n);
            assertThat(Statistics.of(x)).isEqualTo(whole).hasSameHashCodeAs(whole);
            assertThat(merged.mean()).containsExactly(whole.mean(), within(1e-9));
            for (int i = 0; i < d; i++) {
              assertThat(merged.covariance()[i])
                  .containsExactly(whole.covariance()[i], within(1e-9));
            }
          }
        });
  }

  @Property(tries = 25)
  void invariantUnderACommonRotation(@ForAll @IntRange(min = 2, max = 12) int d, @ForAll long seed)
      throws Exception {
    Random r = new Random(seed);
    // a random orthogonal matrix: the eigenvectors of a random symmetric matrix
    double[][] q = SymmetricEigen.of(SymmetricEigenTest.randomSymmetric(r, d)).vectors();
    double[][] x = new double[40][d];
    double[][] y = new double[60][d];
    for (double[] row : x) {
      for (int j = 0; j < d; j++) {
        row[j] = r.nextGaussian() * (1 + j);
      }
    }
    for (double[] row : y) {
      for (int j = 0; j < d; j++) {
        row[j] = r.nextGaussian() + 0.5 * j;
      }
    }
    double[][] xq = new double[40][];
    double[][] yq = new double[60][];
    for (int i = 0; i < 40; i++) {
      xq[i] = rowTimes(x[i], q);
    }
    for (int i = 0; i < 60; i++) {
      yq[i] = rowTimes(y[i], q);
    }
    Leaks.check(
        () -> {
          try (Tensor tx = features(x);
              Tensor ty = features(y);
              Tensor txq = features(xq);
              Tensor tyq = features(yq)) {
            double plain = FrechetDistance.distance(tx, ty);
            double rotated = FrechetDistance.distance(txq, tyq);
            assertThat(rotated).isCloseTo(plain, within(1e-8 * Math.max(1, plain)));
            assertThat(plain).isGreaterThan(0);
          }
        });
  }

  private static double[] rowTimes(double[] v, double[][] q) {
    double[] out = new double[v.length];
    for (int j = 0; j < v.length; j++) {
      for (int k = 0; k < v.length; k++) {
        out[j] += v[k] * q[k][j];
      }
    }
    return out;
  }

  @Test
  void samplesOfShiftedStandardGaussiansGiveTheSquaredShift() throws Exception {
    Leaks.check(
        () -> {
          int d = 16;
          int n = 20_000;
          double[] m = new double[d];
          double m2 = 0;
          for (int i = 0; i < d; i++) {
            m[i] = 0.5 * Math.sin(i + 1);
            m2 += m[i] * m[i];
          }
          try (Scope s = Scope.open();
              TorchGenerator g = TorchGenerator.cpu(7)) {
            Tensor a = Tensor.randn(new long[] {n, d}, g, DType.FLOAT64, dev.rectok.api.Device.CPU);
            Tensor b =
                Tensor.randn(new long[] {n, d}, g, DType.FLOAT64, dev.rectok.api.Device.CPU)
                    .add(Tensor.of(m, 1, d));
            double fid = FrechetDistance.distance(a, b);
            System.out.printf(
                "FID N(0,I) vs N(m,I), D=%d, N=%d: %.5f (|m|^2 = %.5f)%n", d, n, fid, m2);
            // finite-sample bias of the covariance term is about D(D+1)/(2N) ≈ 0.007
            assertThat(fid).isCloseTo(m2, within(0.05));
          }
        });
  }

  @Test
  void accumulatorMatchesOneShotAndSurvivesALargeOffset() throws Exception {
    Leaks.check(
        () -> {
          try (Scope s = Scope.open();
              TorchGenerator g = TorchGenerator.cpu(3)) {
            // features around 1e6 with unit spread: a raw sum-of-squares would lose every digit
            Tensor x =
                Tensor.randn(new long[] {1000, 6}, g, DType.FLOAT64, dev.rectok.api.Device.CPU)
                    .add(1e6);
            Statistics whole = Statistics.of(x);
            FrechetDistance.Accumulator acc = new FrechetDistance.Accumulator();
            long[] sizes = {1, 7, 300, 2, 490, 200};
            long at = 0;
            for (long len : sizes) {
              acc.add(x.narrow(0, at, len));
              at += len;
            }
            assertThat(acc.count()).isEqualTo(1000);
            Statistics merged = acc.statistics();
            // reference: two-pass mean/covariance in plain Java
            double[] v = x.toDoubleArray();
            double[] mean = new double[6];
            for (int i = 0; i < 1000; i++) {
              for (int j = 0; j < 6; j++) {
                mean[j] += v[i * 6 + j] / 1000;
              }
            }
            for (int j = 0; j < 6; j++) {
              for (int k = 0; k < 6; k++) {
                double c = 0;
                for (int i = 0; i < 1000; i++) {
                  c += (v[i * 6 + j] - mean[j]) * (v[i * 6 + k] - mean[k]);
                }
                c /= 999;
                assertThat(merged.covariance()[j][k]).isCloseTo(c, within(1e-8));
                assertThat(whole.covariance()[j][k]).isCloseTo(c, within(1e-8));
              }
              assertThat(merged.mean()[j]).isCloseTo(mean[j], within(1e-8));
            }
            assertThat(merged.covariance()[0][0]).isCloseTo(1.0, within(0.15));
          }
        });
  }

  @Test
  void fastEnoughForTwoHundredFiftySixDimensions() {
    Random r = new Random(11);
    int d = 256;
    double[][] s1 = SymmetricEigenTest.randomPsd(r, d, 300);
    double[][] s2 = SymmetricEigenTest.randomPsd(r, d, 200); // rank-deficient, as with few samples
    Statistics a = new Statistics(new double[d], s1, 301);
    Statistics b = new Statistics(new double[d], s2, 201);
    FrechetDistance.distance(a, b); // warm-up (JIT)
    long t0 = System.nanoTime();
    double fid = FrechetDistance.distance(a, b);
    double seconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf("FID D=256: %.3f s (value %.3f)%n", seconds, fid);
    assertThat(fid).isPositive();
    assertThat(seconds)
        .as("seconds for D=256 (target < 1 s; loose bound for a loaded CI machine)")
        .isLessThan(3.0);
    int big = 512;
    Statistics c = new Statistics(new double[big], SymmetricEigenTest.randomPsd(r, big, 600), 601);
    t0 = System.nanoTime();
    FrechetDistance.distance(c, c);
    System.out.printf("FID D=512: %.3f s%n", (System.nanoTime() - t0) / 1e9);
  }

  @Test
  void rejectsBadInput() throws Exception {
    Leaks.check(
        () -> {
          try (Scope s = Scope.open()) {
            assertThatThrownBy(
                    () ->
                        FrechetDistance.distance(
                            new Statistics(new double[2], diag(1, 1), 3),
                            new Statistics(new double[3], diag(1, 1, 1), 3)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dimensions differ");
            assertThatThrownBy(() -> new Statistics(new double[2], diag(1, 1, 1), 3))
                .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> Statistics.of(Tensor.zeros(1, 4)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("at least 2");
            assertThatThrownBy(() -> Statistics.of(Tensor.zeros(4)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("(N, D)");
            assertThatThrownBy(() -> Statistics.of(Tensor.of(new float[] {1, Float.NaN}, 2, 1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NaN");
            FrechetDistance.Accumulator acc =
                new FrechetDistance.Accumulator().add(Tensor.zeros(2, 3));
            assertThatThrownBy(() -> acc.add(Tensor.zeros(2, 4)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("differs");
          }
        });
  }
}
