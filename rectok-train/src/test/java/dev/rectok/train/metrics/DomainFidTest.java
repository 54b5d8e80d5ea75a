package dev.rectok.train.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.rectok.eval.FrechetDistance;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import java.util.Iterator;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class DomainFidTest {
  /** A stand-in for the teacher: mean-pool 2×2 blocks and flatten, (B, 3, 4, 4) -> (B, 12). */
  private static final Function<Tensor, Tensor> POOL =
      x -> x.reshape(x.size(0), 3, 2, 2, 2, 2).mean(new long[] {3, 5}, false).flatten(1, -1);

  @Test
  void matchesFrechetDistanceOnExtractedFeaturesForEveryBatching() throws Exception {
    Leaks.check(
        () -> {
          try (Scope s = Scope.open();
              TorchGenerator g = TorchGenerator.cpu(4)) {
            Tensor a = Tensor.rand(g, 50, 3, 4, 4).mul(2).sub(1);
            Tensor b = Tensor.rand(g, 37, 3, 4, 4).mul(1.5).sub(1);
            double expected = FrechetDistance.distance(POOL.apply(a), POOL.apply(b));
            assertThat(expected).isGreaterThan(0.1);
            assertThat(DomainFid.distance(POOL, a, b, 7)).isCloseTo(expected, within(1e-9));
            assertThat(DomainFid.distance(POOL, a, b, 1000)).isCloseTo(expected, within(1e-9));
            Iterable<Tensor> listA = List.of(a.narrow(0, 0, 20), a.narrow(0, 20, 30));
            Iterable<Tensor> listB = List.of(b);
            assertThat(DomainFid.distance(POOL, listA, listB)).isCloseTo(expected, within(1e-9));
            assertThat(DomainFid.distance(POOL, a, a, 16)).isCloseTo(0.0, within(1e-9));
            // the caller's batches are untouched
            assertThat(a.isClosed() || b.isClosed()).isFalse();
            for (Tensor t : listA) {
              assertThat(t.isClosed()).isFalse();
            }
          }
        });
  }

  @Test
  void batchesCreatedByALazySourceAreFreed() throws Exception {
    Leaks.check(
        () -> {
          try (TorchGenerator g = TorchGenerator.cpu(8)) {
            Iterable<Tensor> generated =
                () ->
                    new Iterator<>() {
                      private int left = 5;

                      @Override
                      public boolean hasNext() {
                        return left > 0;
                      }

                      @Override
                      public Tensor next() {
                        left--;
                        return Tensor.randn(
                            g, 8, 3, 4,
                            4); // no scope of its own: DomainFid's per-batch scope owns it
                      }
                    };
            FrechetDistance.Statistics st = DomainFid.statistics(POOL, generated);
            assertThat(st.count()).isEqualTo(40);
            assertThat(st.dim()).isEqualTo(12);
          }
        });
  }

  @Test
  void rejectsBadExtractorsAndSources() throws Exception {
    Leaks.check(
        () -> {
          try (Scope s = Scope.open()) {
            Tensor images = Tensor.zeros(4, 3, 4, 4);
            assertThatThrownBy(() -> DomainFid.distance(x -> x, images, images, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("new (B, D)");
            assertThatThrownBy(() -> DomainFid.distance(x -> x.flatten(), images, images, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("(B, D)");
            assertThatThrownBy(() -> DomainFid.distance(POOL, images, images, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("batchSize");
            assertThatThrownBy(() -> DomainFid.statistics(POOL, List.of()))
                .isInstanceOf(IllegalStateException.class);
          }
        });
  }
}
