package dev.rectok.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/** KID against torch-fidelity's subsets and an independent straightforward float64 formula. */
class KernelInceptionDistanceTest {

  /**
   * torch-fidelity draws {@code rng.choice(n1, m, replace=False)} then {@code rng.choice(n2, m,
   * replace=False)} per subset from one {@code RandomState(2020)}; legacy NumPy's choice without
   * replacement is {@code permutation(n)[:m]}. With n1 = 7, n2 = 5, m = 3 NumPy 2.4 prints [5, 4,
   * 1], [3, 2, 4], [4, 6, 5], [4, 0, 1]; and the first 5 of {@code choice(50000, 1000)} are the
   * first 5 of {@code permutation(50000)} recorded in {@link NumpyRandomStateTest}.
   */
  @Test
  void subsetsAreNumpysChoiceSequence() {
    var o = KernelInceptionDistance.Options.DEFAULTS.withSubsets(2, 3);
    int[][][] idx = KernelInceptionDistance.subsetIndices(7, 5, o);
    assertThat(idx[0][0]).containsExactly(5, 4, 1);
    assertThat(idx[0][1]).containsExactly(3, 2, 4);
    assertThat(idx[1][0]).containsExactly(4, 6, 5);
    assertThat(idx[1][1]).containsExactly(4, 0, 1);
    int[] first = new NumpyRandomState(2020).choice(50_000, 1000);
    assertThat(first).hasSize(1000);
    assertThat(java.util.Arrays.copyOf(first, 5)).containsExactly(24397, 39273, 6546, 13504, 49765);
  }

  /**
   * A deterministic feature set whose KID NumPy computed with torch-fidelity's formulas in float64
   * (features {@code sin(0.37 i (j+1) + φ) + 0.1 cos(1.3 j + φ i)} rounded to float32; 5 subsets of
   * 4, seed 2020).
   */
  @Test
  void equalsNumpyOnAFormulaFeatureSet() {
    float[] a = formula(12, 6, 0.0);
    float[] b = formula(9, 6, 0.5);
    var r =
        KernelInceptionDistance.compute(
            a, 12, b, 9, 6, KernelInceptionDistance.Options.DEFAULTS.withSubsets(5, 4));
    assertThat(r.mean()).isCloseTo(-0.07477813384525107, within(1e-13));
    assertThat(r.std()).isCloseTo(0.29607595314652824, within(1e-13));
    assertThat(r.perSubset()).hasSize(5);
  }

  private static float[] formula(int n, int d, double phase) {
    float[] f = new float[n * d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        f[i * d + j] =
            (float) (Math.sin(0.37 * i * (j + 1) + phase) + 0.1 * Math.cos(1.3 * j + phase * i));
      }
    }
    return f;
  }

  @Property(tries = 40)
  void equalsAStraightforwardFloat64Implementation(
      @ForAll @IntRange(min = 2, max = 9) int m,
      @ForAll @IntRange(min = 0, max = 6) int extra1,
      @ForAll @IntRange(min = 0, max = 6) int extra2,
      @ForAll @IntRange(min = 1, max = 12) int dim,
      @ForAll @IntRange(min = 1, max = 4) int subsets,
      @ForAll @IntRange(min = 1, max = 4) int degree,
      @ForAll @LongRange(min = 0, max = 4294967295L) long seed) {
    int n1 = m + extra1;
    int n2 = m + extra2;
    Random r = new Random(seed ^ dim);
    float[] a = gaussian(r, n1 * dim, 0.0);
    float[] b = gaussian(r, n2 * dim, 0.3);
    var o = new KernelInceptionDistance.Options(subsets, m, degree, Double.NaN, 1, seed);
    var got = KernelInceptionDistance.compute(a, n1, b, n2, dim, o);
    int[][][] idx = KernelInceptionDistance.subsetIndices(n1, n2, o);
    double[] expect = new double[subsets];
    for (int s = 0; s < subsets; s++) {
      expect[s] = naiveMmd(a, idx[s][0], b, idx[s][1], dim, degree, 1.0 / dim);
    }
    double[] per = got.perSubset();
    double mean = 0;
    for (int s = 0; s < subsets; s++) {
      assertThat(per[s]).isCloseTo(expect[s], within(1e-9 * (1 + Math.abs(expect[s]))));
      mean += expect[s] / subsets;
    }
    double var = 0;
    for (double v : expect) {
      var += (v - mean) * (v - mean) / subsets;
    }
    assertThat(got.mean()).isCloseTo(mean, within(1e-9 * (1 + Math.abs(mean))));
    assertThat(got.std()).isCloseTo(Math.sqrt(var), within(1e-9 * (1 + Math.sqrt(var))));
  }

  // the estimator as written in the KID paper: within-set pairs i ≠ j, all cross pairs
  private static double naiveMmd(
      float[] a, int[] ia, float[] b, int[] ib, int dim, int degree, double gamma) {
    int m = ia.length;
    double xx = 0;
    double yy = 0;
    double xy = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        if (i != j) {
          xx += k(a, ia[i], a, ia[j], dim, degree, gamma);
          yy += k(b, ib[i], b, ib[j], dim, degree, gamma);
        }
        xy += k(a, ia[i], b, ib[j], dim, degree, gamma);
      }
    }
    return xx / (m * (m - 1.0)) + yy / (m * (m - 1.0)) - 2 * xy / ((double) m * m);
  }

  private static double k(float[] p, int i, float[] q, int j, int dim, int degree, double gamma) {
    double dot = 0;
    for (int c = 0; c < dim; c++) {
      dot += (double) p[i * dim + c] * q[j * dim + c];
    }
    return Math.pow(gamma * dot + 1, degree);
  }

  private static float[] gaussian(Random r, int n, double shift) {
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) (r.nextGaussian() + shift);
    }
    return f;
  }

  @Test
  void identicalSetsGiveZeroOnAverageAndTheMeanIsNotClamped() {
    Random r = new Random(1);
    float[] a = gaussian(r, 40 * 3, 0);
    var o = KernelInceptionDistance.Options.DEFAULTS.withSubsets(3, 40);
    // a subset of all 40 rows is the whole set, so every subset gives the same value: for X
    // against itself the estimate is 2 (mean off-diagonal k − mean diagonal k) / m, negative
    // here (k(x, x) ≈ 8 > k(x, y) ≈ 1); torch-fidelity reports it unclamped too
    var res = KernelInceptionDistance.compute(a, 40, a, 40, 3, o);
    assertThat(res.std()).isCloseTo(0.0, within(1e-12));
    assertThat(res.mean()).isLessThan(0.0);
  }

  @Test
  void tooFewSamplesAndBadInputAreClearErrors() {
    float[] a = new float[10 * 2];
    var o = KernelInceptionDistance.Options.DEFAULTS;
    assertThatThrownBy(() -> KernelInceptionDistance.compute(a, 10, a, 10, 2, o))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1000")
        .hasMessageContaining("--kid-subset-size");
    assertThatThrownBy(() -> KernelInceptionDistance.compute(a, 10, a, 9, 2, o.withSubsets(1, 5)))
        .hasMessageContaining("not 9 × 2");
    float[] bad = a.clone();
    bad[3] = Float.NaN;
    assertThatThrownBy(
            () -> KernelInceptionDistance.compute(bad, 10, a, 10, 2, o.withSubsets(1, 5)))
        .hasMessageContaining("NaN");
    assertThatThrownBy(() -> o.withSubsets(1, 1)).hasMessageContaining("at least 2");
    assertThatThrownBy(() -> o.withSubsets(0, 10)).hasMessageContaining("at least 1 subset");
    assertThatThrownBy(() -> new NumpyRandomState(0).choice(3, 4))
        .hasMessageContaining("larger sample");
  }
}
