package dev.rectok.train.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.rectok.torch.distributed.DistributedContext;
import dev.rectok.train.run.TrainingCheckpoint;
import org.junit.jupiter.api.Test;

/**
 * Resuming with another world size: at an epoch boundary it works, mid-epoch it is refused clearly.
 */
class DistributedRunsTest {

  static TrainingCheckpoint.Counters counters(Integer worldSize, long[] position) {
    var extras = JsonNodeFactory.instance.objectNode();
    if (worldSize != null) {
      extras.put(DistributedRuns.WORLD_SIZE, worldSize);
    }
    return new TrainingCheckpoint.Counters(40, 0, position, extras);
  }

  @Test
  void anotherWorldSizeResumesOnlyAtAnEpochBoundary() {
    DistributedContext one = DistributedContext.local();
    assertThatThrownBy(() -> DistributedRuns.checkWorldSize(counters(2, new long[] {40}), 64, one))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(
            "written by 2 processes in the middle of epoch 0; resume it with 2 processes");
    assertThatCode(() -> DistributedRuns.checkWorldSize(counters(2, new long[0]), 64, one))
        .doesNotThrowAnyException();
    assertThatCode(() -> DistributedRuns.checkWorldSize(counters(null, new long[] {3}), 64, one))
        .as("a checkpoint without the key is a one-process run")
        .doesNotThrowAnyException();
    assertThat(DistributedRuns.extras(one).get(DistributedRuns.WORLD_SIZE).asInt()).isEqualTo(1);
  }

  @Test
  void inAWorldOfOneEverythingIsLocal() {
    assertThat(DataParallel.worldSize()).isEqualTo(1);
    assertThat(DataParallel.isMain()).isTrue();
    assertThat(DistributedRuns.agree(DataParallel.current(), true, true)).isTrue();
    assertThat(DistributedRuns.agree(DataParallel.current(), true, false)).isFalse();
    assertThat(DataParallel.globalShape(new long[] {4, 3})).containsExactly(4, 3);
  }
}
