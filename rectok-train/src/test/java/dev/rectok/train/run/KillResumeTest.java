package dev.rectok.train.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 safety: a child JVM trains and checkpoints every step; it is killed ({@code
 * destroyForcibly}, SIGKILL) at a random moment after a few checkpoints; the run then resumes in
 * this JVM from {@code latest} and must continue bit-identically to an uninterrupted run, with
 * metrics neither lost nor duplicated.
 */
class KillResumeTest {

  static TinyConfig config(long seed) {
    return new TinyConfig(seed, 8, 0.01, "kill-resume");
  }

  @Test
  void aRunKilledWithSigkillResumesBitIdentically(@TempDir Path tmp) throws Exception {
    long seed = 11;
    Path dir = tmp.resolve("run");
    Random rnd = new Random(System.nanoTime());
    List<String> kills = new ArrayList<>();
    long minStep = 3;
    for (int round = 0;
        round < 2;
        round++) { // the second child resumes from the first one's checkpoints
      Path log = tmp.resolve("child" + round + ".log");
      long delayMs = rnd.nextInt(300);
      Process child = startChild(dir, seed, 100_000, log);
      try {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        // Read the pointer directly: opening a CheckpointStore would delete the child's temp files.
        Path pointer = dir.resolve("checkpoints").resolve(CheckpointStore.LATEST);
        while (true) {
          assertThat(child.isAlive()).as("child exited early:\n%s", readLog(log)).isTrue();
          assertThat(System.nanoTime())
              .as("child made no checkpoints in time:\n%s", readLog(log))
              .isLessThan(deadline);
          String latest = Files.exists(pointer) ? Files.readString(pointer).strip() : "";
          if (latest.compareTo(CheckpointStore.fileName(minStep)) >= 0) {
            break;
          }
          Thread.sleep(5);
        }
        Thread.sleep(delayMs);
      } finally {
        child.destroyForcibly();
        child.waitFor(30, TimeUnit.SECONDS);
      }
      assertThat(child.exitValue()).as("killed, not finished").isNotZero();
      long at =
          TrainingCheckpoint.peek(
                  new CheckpointStore(dir.resolve("checkpoints"), 3).latest().orElseThrow())
              .step();
      kills.add(delayMs + " ms after step " + minStep + " (latest then step " + at + ")");
      minStep = at + 3;
    }

    long resumedAt;
    long target;
    try (RunDirectory run = RunDirectory.open(dir, config(seed), 3);
        TinyRun resumed = new TinyRun(config(seed))) {
      try (var s = Files.list(run.checkpoints().dir())) {
        assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
      }
      resumed.restored(run.checkpoints().restoreLatest(resumed.checkpoint).orElseThrow());
      resumedAt = resumed.step;
      assertThat(resumedAt).isGreaterThanOrEqualTo(3);
      int dropped = run.rewindMetrics("step", resumedAt);
      assertThat(run.readMetrics())
          .extracting(n -> n.get("step").asLong())
          .containsExactlyElementsOf(range(1, resumedAt));
      target = resumedAt + 5;
      while (resumed.step < target) {
        resumed.step();
      }
      System.out.printf(
          "SIGKILLed %s; resumed at step %d (%d metrics lines of unsaved steps dropped); "
              + "continued to %d%n",
          kills, resumedAt, dropped, target);
      try (TinyRun straight = new TinyRun(config(seed))) {
        while (straight.step < target) {
          straight.step();
        }
        resumed.assertIdenticalTo(straight);
      }
    }
  }

  private static List<Long> range(long from, long to) {
    List<Long> out = new ArrayList<>();
    for (long i = from; i <= to; i++) {
      out.add(i);
    }
    return out;
  }

  private static String readLog(Path log) {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  static Process startChild(Path dir, long seed, long limit, Path log) throws IOException {
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    LinkedHashSet<String> cp = new LinkedHashSet<>();
    for (String prop : new String[] {"jdk.module.path", "java.class.path"}) {
      String v = System.getProperty(prop);
      if (v != null && !v.isBlank()) {
        for (String e : v.split(File.pathSeparator)) {
          if (!e.isBlank()) {
            cp.add(e);
          }
        }
      }
    }
    // Under surefire's module mode the test classes are patched into the module, not on a path.
    for (String d : new String[] {"target/test-classes", "target/classes"}) {
      Path p = Path.of(d).toAbsolutePath();
      if (Files.isDirectory(p)) {
        cp.add(p.toString());
      }
    }
    List<String> cmd =
        new ArrayList<>(
            List.of(
                java,
                "-Xmx256m",
                "--enable-native-access=ALL-UNNAMED",
                "-Drectok.native.lib=" + System.getProperty("rectok.native.lib"),
                "-cp",
                String.join(File.pathSeparator, cp),
                TrainerChild.class.getName(),
                dir.toString(),
                Long.toString(seed),
                Long.toString(limit)));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }
}
