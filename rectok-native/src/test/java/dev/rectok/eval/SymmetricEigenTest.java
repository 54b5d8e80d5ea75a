package dev.rectok.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class SymmetricEigenTest {

  static double[][] randomSymmetric(Random r, int n) {
    double[][] a = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j <= i; j++) {
        a[i][j] = a[j][i] = r.nextGaussian();
      }
    }
    return a;
  }

  /** B Bᵀ with B n×k: positive semi-definite, singular when k < n. */
  static double[][] randomPsd(Random r, int n, int k) {
    double[][] b = new double[n][k];
    for (double[] row : b) {
      for (int j = 0; j < k; j++) {
        row[j] = r.nextGaussian();
      }
    }
    double[][] a = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int l = 0; l < k; l++) {
          s += b[i][l] * b[j][l];
        }
        a[i][j] = s;
      }
    }
    return a;
  }

  static double maxAbsDiff(double[][] a, double[][] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a.length; j++) {
        m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
      }
    }
    return m;
  }

  static double maxAbs(double[][] a) {
    double m = 0;
    for (double[] row : a) {
      for (double v : row) {
        m = Math.max(m, Math.abs(v));
      }
    }
    return m;
  }

  @Property(tries = 60)
  void reconstructsAndIsOrthonormal(@ForAll @IntRange(min = 1, max = 40) int n, @ForAll long seed) {
    double[][] a = randomSymmetric(new Random(seed), n);
    SymmetricEigen e = SymmetricEigen.of(a);
    assertThat(maxAbsDiff(e.apply(w -> w), a)).isLessThan(1e-9 * Math.max(1, maxAbs(a)));
    double[][] v = e.vectors();
    for (int k = 0; k < n; k++) {
      for (int l = 0; l < n; l++) {
        double dot = 0;
        for (int i = 0; i < n; i++) {
          dot += v[i][k] * v[i][l];
        }
        assertThat(dot).isCloseTo(k == l ? 1 : 0, within(1e-10));
      }
    }
    double[] w = e.values();
    for (int k = 1; k < n; k++) {
      assertThat(w[k]).isGreaterThanOrEqualTo(w[k - 1]);
    }
    assertThat(SymmetricEigen.valuesOf(a))
        .containsExactly(w, within(1e-9 * Math.max(1, maxAbs(a))));
  }

  @Property(tries = 60)
  void sqrtOfPsdSquaresBack(
      @ForAll @IntRange(min = 1, max = 30) int n,
      @ForAll @IntRange(min = 1, max = 40) int rank,
      @ForAll long seed) {
    double[][] a =
        randomPsd(new Random(seed), n, rank); // singular when rank < n: exercises the clamp
    double[][] r = SymmetricEigen.sqrtPsd(a);
    assertThat(maxAbsDiff(SymmetricEigen.multiply(r, r), a))
        .isLessThan(1e-9 * Math.max(1, maxAbs(a)));
    assertThat(SymmetricEigen.valuesOf(r)[0]).isGreaterThanOrEqualTo(-1e-7);
  }

  /**
   * Prescribed spectra with repeated, zero and widely scaled eigenvalues, and already-diagonal
   * input.
   */
  @Property(tries = 40)
  void recoversPrescribedSpectra(@ForAll @IntRange(min = 2, max = 30) int n, @ForAll long seed) {
    Random r = new Random(seed);
    double[][] q = SymmetricEigen.of(randomSymmetric(r, n)).vectors();
    double[] w = new double[n];
    for (int k = 0; k < n; k++) {
      w[k] =
          switch (r.nextInt(4)) {
            case 0 -> 0.0;
            case 1 -> 1.0;
            case 2 -> -2.5;
            default -> Math.pow(10, r.nextInt(7) - 3) * r.nextGaussian();
          };
    }
    double[][] a = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        for (int k = 0; k < n; k++) {
          a[i][j] += q[i][k] * w[k] * q[j][k];
        }
      }
    }
    double scale = Math.max(1, maxAbs(a));
    double[] sorted = w.clone();
    java.util.Arrays.sort(sorted);
    assertThat(SymmetricEigen.of(a).values()).containsExactly(sorted, within(1e-9 * scale));
    double[][] diagonal = new double[n][n];
    for (int k = 0; k < n; k++) {
      diagonal[k][k] = w[k];
    }
    assertThat(SymmetricEigen.of(diagonal).values()).containsExactly(sorted, within(0.0));
  }

  @Test
  void knownSpectrum() {
    double[][] a = {{2, 1}, {1, 2}};
    SymmetricEigen e = SymmetricEigen.of(a);
    assertThat(e.values()).containsExactly(new double[] {1, 3}, within(1e-14));
    double[][] v = e.vectors();
    assertThat(Math.abs(v[0][1])).isCloseTo(Math.sqrt(0.5), within(1e-14));
    assertThat(v[0][1] * v[1][1]).isCloseTo(0.5, within(1e-14)); // eigenvector of 3 is ±(1, 1)/√2
    assertThat(SymmetricEigen.valuesOf(new double[][] {{5}})).containsExactly(5.0);
  }

  @Test
  void rejectsBadMatrices() {
    assertThatThrownBy(() -> SymmetricEigen.of(new double[][] {{1, 2}}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("square");
    assertThatThrownBy(() -> SymmetricEigen.of(new double[0][0]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SymmetricEigen.of(new double[][] {{1, Double.NaN}, {Double.NaN, 1}}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not finite");
  }
}
