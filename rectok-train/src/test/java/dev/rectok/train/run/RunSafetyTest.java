package dev.rectok.train.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10, never lose data in a run folder: one trainer at a time (the lock dies with its
 * process), a refused configuration does not bind the folder, damaged metrics lines are skipped
 * with a warning and dropped on rewind.
 */
class RunSafetyTest {
  @Test
  void aSecondTrainerOnTheSameFolderIsRefusedUntilTheFirstCloses(@TempDir Path tmp)
      throws IOException {
    Path dir = tmp.resolve("run");
    TinyConfig cfg = new TinyConfig(1, 8, 1e-3, "x");
    try (RunDirectory first = RunDirectory.open(dir, cfg, 3)) {
      first.appendMetrics(new RunDirectoryTest.Metric(1, 0.5));
      byte[] before = Files.readAllBytes(dir.resolve("metrics.jsonl"));
      assertThatThrownBy(() -> RunDirectory.open(dir, cfg, 3))
          .isInstanceOf(RunInUseException.class)
          .hasMessageContaining(dir.toAbsolutePath().toString())
          .hasMessageContaining("pid " + ProcessHandle.current().pid());
      assertThat(Files.readAllBytes(dir.resolve("metrics.jsonl"))).isEqualTo(before);
    }
    try (RunDirectory again = RunDirectory.open(dir, cfg, 3)) {
      assertThat(again.resumed()).isTrue();
    }
  }

  @Test
  void anotherProcessHoldsTheLockUntilItIsKilled(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("run");
    Process child = KillResumeTest.startChild(dir, 3, Long.MAX_VALUE, tmp.resolve("child.log"));
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!Files.exists(dir.resolve("metrics.jsonl"))
          || Files.size(dir.resolve("metrics.jsonl")) == 0) {
        assertThat(child.isAlive())
            .as(
                Files.exists(tmp.resolve("child.log"))
                    ? Files.readString(tmp.resolve("child.log"))
                    : "")
            .isTrue();
        assertThat(System.nanoTime()).as("child started training").isLessThan(deadline);
        Thread.sleep(50);
      }
      assertThatThrownBy(() -> RunDirectory.open(dir, KillResumeTest.config(3), 3))
          .isInstanceOf(RunInUseException.class)
          .hasMessageContaining("pid " + child.pid());
    } finally {
      child.destroyForcibly(); // SIGKILL: the operating system releases the lock
      child.waitFor(30, TimeUnit.SECONDS);
    }
    try (RunDirectory run = RunDirectory.open(dir, KillResumeTest.config(3), 3)) {
      assertThat(run.resumed()).isTrue();
    }
  }

  @Test
  void aConfigurationRefusedBeforeTrainingDoesNotBindTheFolder(@TempDir Path tmp)
      throws IOException {
    Path dir = tmp.resolve("run");
    try (RunDirectory refused = RunDirectory.open(dir, new TinyConfig(1, 8, 1e-3, "typo"), 3)) {
      // the caller's validation fails here: nothing is committed
      assertThat(refused.resumed()).isFalse();
    }
    assertThat(dir.resolve("config.json")).doesNotExist();
    try (RunDirectory corrected = RunDirectory.open(dir, new TinyConfig(1, 16, 1e-3, "fixed"), 3)) {
      assertThat(corrected.resumed()).isFalse();
      corrected.commitConfig();
    }
    assertThat(Files.readString(dir.resolve("config.json"))).contains("fixed");
  }

  @Test
  void aDamagedMetricsLineIsSkippedWithItsLineNumberAndDroppedOnRewind(@TempDir Path tmp)
      throws IOException {
    Path dir = tmp.resolve("run");
    TinyConfig cfg = new TinyConfig(1, 8, 1e-3, "x");
    try (RunDirectory run = RunDirectory.open(dir, cfg, 3)) {
      run.appendMetrics(new RunDirectoryTest.Metric(1, 0.5));
    }
    Files.write(
        dir.resolve("metrics.jsonl"),
        "{\"step\":2,\"lo{\"step\":9}\n[1,2]\n".getBytes(StandardCharsets.UTF_8),
        StandardOpenOption.APPEND);
    try (RunDirectory run = RunDirectory.open(dir, cfg, 3)) {
      run.appendMetrics(new RunDirectoryTest.Metric(2, 0.25));
      assertThat(run.readMetrics()).extracting(n -> n.get("step").asLong()).containsExactly(1L, 2L);
      assertThat(run.rewindMetrics("step", 5)).as("the two damaged lines").isEqualTo(2);
    }
    assertThat(Files.readAllLines(dir.resolve("metrics.jsonl"))).hasSize(2);
  }

  @Test
  void anUnreadableConfigIsAnErrorNamingTheFile(@TempDir Path tmp) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("run"));
    Files.writeString(dir.resolve("config.json"), "{\"lr\": 1e-3,,");
    assertThatThrownBy(() -> RunDirectory.open(dir, new TinyConfig(1, 8, 1e-3, "x"), 3))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("config.json is not valid JSON");
  }
}
