package dev.rectok.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.rectok.eval.FrechetDistance.Statistics;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** FID in both formulas, Inception Score both ways, precision/recall: laws and bad input. */
class MetricsTest {
  private static float[] gaussian(int n, int d, long seed, double shift) {
    Random r = new Random(seed);
    float[] v = new float[n * d];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (r.nextGaussian() + shift);
    }
    return v;
  }

  private static Statistics stats(float[] v, int n, int d) {
    try (Scope s = Scope.open()) {
      return Fid.withFloat32Mean(Statistics.of(Tensor.of(v, n, d)));
    }
  }

  @Property(tries = 15)
  void bothFidFormulasAgreeAndVanishOnIdenticalSets(
      @ForAll @IntRange(min = 0, max = 1000) int seed) {
    Statistics a = stats(gaussian(60, 8, seed, 0), 60, 8);
    Statistics b = stats(gaussian(50, 8, seed + 1, 0.3), 50, 8);
    double tf = Fid.distance(a, b, Fid.Protocol.TORCH_FIDELITY);
    double adm = Fid.distance(a, b, Fid.Protocol.ADM);
    assertThat(adm).isCloseTo(tf, within(1e-9 * Math.max(1, tf)));
    assertThat(tf).isCloseTo(FrechetDistance.distance(a, b), within(1e-9 * Math.max(1, tf)));
    assertThat(Fid.distance(a, a, Fid.Protocol.TORCH_FIDELITY)).isCloseTo(0, within(1e-9));
  }

  @Test
  void mismatchedOrNonFiniteStatisticsAreClearErrors() {
    Statistics a = stats(gaussian(20, 4, 1, 0), 20, 4);
    Statistics b = stats(gaussian(20, 5, 2, 0), 20, 5);
    assertThatThrownBy(() -> Fid.distance(a, b, Fid.Protocol.ADM))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("dimensions differ");
    double[] mu = a.mean();
    mu[0] = Double.NaN;
    Statistics nan = new Statistics(mu, a.covariance(), 2);
    assertThatThrownBy(() -> Fid.distance(nan, a, Fid.Protocol.TORCH_FIDELITY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("NaN");
    assertThatThrownBy(() -> stats(gaussian(1, 4, 1, 0), 1, 4)).hasMessageContaining("2 samples");
    assertThatThrownBy(() -> Fid.Protocol.of("clean-fid"))
        .hasMessageContaining("torch-fidelity or adm");
  }

  @Test
  void theInceptionScoreOfConfidentDistinctClassesIsTheirNumber() {
    int c = 5;
    int n = 50;
    float[] logits = new float[n * c];
    for (int i = 0; i < n; i++) {
      logits[i * c + i % c] = 60f; // softmax is one-hot to double precision
    }
    assertThat(InceptionScore.adm(logits, n, c, 10)).isCloseTo(5.0, within(1e-9));
    assertThat(InceptionScore.torchFidelity(logits, n, c, 1, false, 0).mean())
        .isCloseTo(5.0, within(1e-9));
    float[] same = new float[n * c];
    InceptionScore.Result r = InceptionScore.torchFidelity(same, n, c, 10, true, 2020);
    assertThat(r.mean()).isCloseTo(1.0, within(1e-12));
    assertThat(r.std()).isCloseTo(0.0, within(1e-12));
  }

  @Property(tries = 20)
  void unshuffledEqualSplitsGiveTheAdmScore(
      @ForAll @IntRange(min = 1, max = 6) int splits,
      @ForAll @IntRange(min = 0, max = 99) int seed) {
    int per = 7;
    int n = splits * per;
    float[] logits = gaussian(n, 11, seed, 0);
    assertThat(InceptionScore.torchFidelity(logits, n, 11, splits, false, 0).mean())
        .isCloseTo(InceptionScore.adm(logits, n, 11, per), within(1e-12));
  }

  @Test
  void inceptionScoreInputIsChecked() {
    assertThatThrownBy(() -> InceptionScore.torchFidelity(new float[9 * 3], 9, 3, 10, true, 2020))
        .hasMessageContaining("at least as many samples as splits");
    float[] bad = new float[6];
    bad[2] = Float.NaN;
    assertThatThrownBy(() -> InceptionScore.adm(bad, 2, 3, 1)).hasMessageContaining("NaN");
    assertThatThrownBy(() -> InceptionScore.adm(new float[5], 2, 3, 1))
        .hasMessageContaining("not 2 x 3");
  }

  @Test
  void precisionAndRecallOfIdenticalAndOfFarApartSets() {
    try (Scope s = Scope.open()) {
      Tensor a = Tensor.of(gaussian(40, 6, 3, 0), 40, 6);
      PrecisionRecall.Result same = PrecisionRecall.compute(a, a, 3);
      assertThat(same.precision()).isEqualTo(1.0);
      assertThat(same.recall()).isEqualTo(1.0);
      Tensor far = Tensor.of(gaussian(30, 6, 4, 1000), 30, 6);
      PrecisionRecall.Result apart = PrecisionRecall.compute(far, a, 3);
      assertThat(apart.precision()).isZero();
      assertThat(apart.recall()).isZero();
      assertThat(apart.fScore()).isZero();
      assertThatThrownBy(() -> PrecisionRecall.compute(a.narrow(0, 0, 3), a, 3))
          .hasMessageContaining("more than 3 samples");
      assertThatThrownBy(
              () -> PrecisionRecall.compute(a, Tensor.of(gaussian(10, 5, 1, 0), 10, 5), 3))
          .hasMessageContaining("same width");
    }
  }

  @Property(tries = 30)
  void kthSmallestIsTheKthOfTheSortedRow(
      @ForAll @IntRange(min = 1, max = 40) int n,
      @ForAll @IntRange(min = 1, max = 5) int k,
      @ForAll @IntRange(min = 0, max = 999) int seed) {
    k = Math.min(k, n);
    float[] row = gaussian(n, 1, seed, 0);
    float[] sorted = row.clone();
    java.util.Arrays.sort(sorted);
    assertThat(PrecisionRecall.kthSmallest(row, k)).isEqualTo(sorted[k - 1]);
  }
}
