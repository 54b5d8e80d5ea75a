package dev.rectok.train.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import org.junit.jupiter.api.Test;

class PsnrTest {

  @Test
  void knownValuesPerImage() throws Exception {
    Leaks.check(
        () -> {
          try (Scope s = Scope.open()) {
            Tensor a = Tensor.zeros(3, 1, 4, 4);
            // image 0: off by 0.2 in [-1,1] = 0.1 in [0,1] -> mse 1e-2 -> 20 dB; image 1:
            // identical; image 2: -1 vs 1
            Tensor b =
                Tensor.cat(
                    new Tensor[] {
                      Tensor.full(new long[] {1, 1, 4, 4}, 0.2, a.dtype(), a.device()),
                      Tensor.zeros(1, 1, 4, 4),
                      Tensor.full(new long[] {1, 1, 4, 4}, 1.0, a.dtype(), a.device())
                    },
                    0);
            Tensor a2 = a.clone();
            a2.select(0, 2).fill_(-1.0);
            double[] db = Psnr.perImage(a2, b);
            assertThat(db).containsExactly(new double[] {20.0, Psnr.MAX_DB, 0.0}, within(1e-5));
            assertThat(Psnr.mean(a2, b)).isCloseTo((20.0 + 100.0 + 0.0) / 3, within(1e-5));
          }
        });
  }

  @Test
  void identicalImagesScoreTheCapAndOutOfRangeValuesAreClamped() throws Exception {
    Leaks.check(
        () -> {
          try (Scope s = Scope.open();
              TorchGenerator g = TorchGenerator.cpu(0)) {
            Tensor x = Tensor.rand(g, 4, 3, 8, 8).mul(2).sub(1);
            assertThat(Psnr.mean(x, x)).isEqualTo(Psnr.MAX_DB);
            assertThat(Double.isFinite(Psnr.mean(x, x))).isTrue();
            assertThat(
                    Psnr.mean(
                        Tensor.full(new long[] {1, 1, 2, 2}, 3.0, x.dtype(), x.device()),
                        Tensor.ones(1, 1, 2, 2)))
                .isEqualTo(Psnr.MAX_DB);
          }
        });
  }

  @Test
  void accumulatorOverBatchesEqualsTheMeanOverAllImages() throws Exception {
    Leaks.check(
        () -> {
          try (Scope s = Scope.open();
              TorchGenerator g = TorchGenerator.cpu(5)) {
            Tensor a = Tensor.rand(g, 10, 1, 6, 6).mul(2).sub(1);
            Tensor b = a.add(Tensor.randn(g, 10, 1, 6, 6).mul(0.1));
            Psnr.Accumulator acc = new Psnr.Accumulator();
            acc.add(a.narrow(0, 0, 3), b.narrow(0, 0, 3)).add(a.narrow(0, 3, 7), b.narrow(0, 3, 7));
            assertThat(acc.count()).isEqualTo(10);
            assertThat(acc.mean()).isCloseTo(Psnr.mean(a, b), within(1e-9));
            // more noise, lower PSNR
            Tensor c = a.add(Tensor.randn(g, 10, 1, 6, 6).mul(0.3));
            assertThat(Psnr.mean(a, c)).isLessThan(Psnr.mean(a, b) - 5);
          }
        });
  }

  @Test
  void rejectsMismatchedShapesAndEmptyAccumulators() throws Exception {
    Leaks.check(
        () -> {
          try (Scope s = Scope.open()) {
            assertThatThrownBy(() -> Psnr.mean(Tensor.zeros(2, 1, 4, 4), Tensor.zeros(2, 1, 4, 5)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("shape");
            assertThatThrownBy(() -> new Psnr.Accumulator().mean())
                .isInstanceOf(IllegalStateException.class);
          }
        });
  }
}
