package dev.rectok.train.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.Progress;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** {@link TrainLoop} without a run directory, {@link RandpermBatches} and {@link EpochLosses}. */
class InMemoryLoopTest {

  /** The images of every batch of epochs 0..epochs-1 in one sequential run of the source. */
  private static List<Tensor> sequential(RandpermBatches src, int epochs) {
    List<Tensor> all = new ArrayList<>();
    for (int e = 0; e < epochs; e++) {
      try (BatchSource.Pass p = src.open(e, null)) {
        while (p.hasNext()) {
          all.add(p.next().images());
        }
      }
    }
    return all;
  }

  @Property(tries = 25)
  void aPassOpenedAnywhereContinuesAsTheSequentialRunDoes(
      @ForAll @IntRange(min = 1, max = 11) int batch,
      @ForAll @IntRange(min = 0, max = 2) int epoch,
      @ForAll @IntRange(min = 0, max = 4) int start,
      @ForAll boolean flips) {
    Tensor[] d = TrainLoopTest.data();
    try (Scope s = Scope.open();
        RandpermBatches a = new RandpermBatches(d[0], d[1], batch, 9, flips);
        RandpermBatches b = new RandpermBatches(d[0], d[1], batch, 9, flips)) {
      List<Tensor> straight = sequential(a, 3);
      long perEpoch = a.batchesPerEpoch();
      long at = Math.min(start, perEpoch);
      try (BatchSource.Pass p = b.open(epoch, new long[] {at})) {
        for (long k = at; k < perEpoch; k++) {
          Batch got = p.next();
          assertThat(got.index()).isEqualTo(k);
          assertThat(got.images().equal(straight.get((int) (epoch * perEpoch + k))))
              .as("epoch %d batch %d", epoch, k)
              .isTrue();
        }
        assertThat(p.hasNext()).isFalse();
      }
    } finally {
      d[0].close();
      d[1].close();
    }
  }

  @Test
  void eachEpochCoversEverySampleOnceAndKeepsTheLastPartialBatch() {
    Tensor[] d = TrainLoopTest.data();
    try (Scope s = Scope.open();
        RandpermBatches src = new RandpermBatches(d[0], d[1], 16, 1, false)) {
      assertThat(src.batchesPerEpoch()).isEqualTo(3); // 40 = 16 + 16 + 8
      Set<Long> seen = new HashSet<>();
      List<Integer> sizes = new ArrayList<>();
      try (BatchSource.Pass p = src.open(0, null)) {
        while (p.hasNext()) {
          Batch b = p.next();
          sizes.add(b.size());
          for (long i : b.indices()) {
            assertThat(seen.add(i)).isTrue();
          }
          try (Tensor expect = d[1].indexSelect(0, Tensor.of(b.indices(), b.size()))) {
            assertThat(b.labels().equal(expect)).isTrue();
          }
        }
      }
      assertThat(sizes).containsExactly(16, 16, 8);
      assertThat(seen).hasSize(40);
      assertThatThrownBy(() -> src.open(0, new long[] {4})).hasMessageContaining("position 4");
    } finally {
      d[0].close();
      d[1].close();
    }
  }

  @Test
  void theInMemoryLoopRunsEveryEpochAndStopsAtMaxSteps() {
    Tensor[] d = TrainLoopTest.data();
    try (TrainLoopTest.Regression task = new TrainLoopTest.Regression();
        Tensor rgb = d[0].expand(-1, 3, -1, -1).contiguous();
        RandpermBatches src = new RandpermBatches(rgb, d[1], 8, 5, true)) {
      TrainLoop.Outcome all = TrainLoop.run(src, task, TrainLoop.Limits.epochs(2), Progress.NONE);
      assertThat(all.steps()).isEqualTo(10);
      assertThat(all.completed()).isTrue();
      assertThat(all.lastMetrics()).containsKey("loss");
      TrainLoop.Outcome cut =
          TrainLoop.run(src, task, TrainLoop.Limits.epochs(2).withMaxSteps(3), Progress.NONE);
      assertThat(cut.resumedAtStep()).as("nothing to resume from in memory").isZero();
      assertThat(cut.steps()).isEqualTo(3);
      assertThat(cut.stoppedBy()).isEqualTo("max-steps");
    } finally {
      d[0].close();
      d[1].close();
    }
  }

  @Test
  void epochLossesAreMeansInEpochOrder() {
    EpochLosses l = new EpochLosses();
    l.add(0, 1.0);
    l.add(0, 3.0);
    l.add(2, 5.0);
    assertThat(l.epochMeans()).containsExactly(2.0, 5.0);
    assertThatThrownBy(() -> l.add(1, 0)).hasMessageContaining("before the current epoch 2");
  }
}
