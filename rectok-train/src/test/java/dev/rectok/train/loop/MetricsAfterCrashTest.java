package dev.rectok.train.loop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.train.run.RunDirectory;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 10: a run killed before its first checkpoint does not leave its step records twice. */
class MetricsAfterCrashTest {
  @Test
  void recordsOfAStartKilledBeforeTheFirstCheckpointAreNotDuplicated(@TempDir Path tmp)
      throws Exception {
    TrainLoop.Limits full = TrainLoop.Limits.epochs(1).withIntervals(100, 1);
    TrainLoopTest.Result straight = TrainLoopTest.train(tmp.resolve("a"), full);
    straight.weight().close();
    // what a kill -9 after four steps and before any checkpoint leaves behind
    Path b = tmp.resolve("b");
    try (RunDirectory run = RunDirectory.open(b, Map.of("lr", 1e-2), 2)) {
      for (int step = 1; step <= 4; step++) {
        run.appendMetrics(Map.of("step", step, "loss", 99.0));
      }
    }
    TrainLoopTest.Result rerun = TrainLoopTest.train(b, full);
    rerun.weight().close();
    assertThat(rerun.metrics()).isEqualTo(straight.metrics());
    assertThat(rerun.metrics()).noneMatch(l -> l.contains("99.0"));
  }
}
