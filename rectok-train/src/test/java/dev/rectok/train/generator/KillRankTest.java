package dev.rectok.train.generator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rectok.train.distributed.Forks;
import dev.rectok.train.run.CheckpointStore;
import dev.rectok.train.run.RunDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of one rank of a 2-process run: the survivor exits non-zero naming the lost rank well
 * within the timeout (Gloo sees the closed connection at once; the heartbeats name the rank), and
 * rerunning both ranks resumes from rank 0's last checkpoint with every metrics step exactly once.
 * First rank 1 is killed (rank 0 survives), then rank 0 (rank 1 survives; the store went with it).
 */
class KillRankTest {
  static final long TIMEOUT_S = 30;

  static String log(Path p) throws Exception {
    return Files.exists(p) ? Files.readString(p) : "";
  }

  @Test
  void aKilledRankIsNamedByTheSurvivorAndTheRerunResumes(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("run");
    Path pointer = dir.resolve("checkpoints").resolve(CheckpointStore.LATEST);
    long minStep = 4;
    for (int victim : new int[] {1, 0}) {
      int port = Forks.freePort();
      Process[] ranks = new Process[2];
      Path[] logs = new Path[2];
      for (int r = 0; r < 2; r++) {
        logs[r] = tmp.resolve("round" + victim + "-rank" + r + ".log");
        ranks[r] =
            Forks.startRank(
                DpRunChild.class,
                List.of(dir.toString(), "100000", "" + TIMEOUT_S),
                r,
                2,
                port,
                logs[r]);
      }
      int survivor = 1 - victim;
      try {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (true) {
          assertThat(ranks[0].isAlive() && ranks[1].isAlive())
              .as("both ranks running:\n%s\n%s", log(logs[0]), log(logs[1]))
              .isTrue();
          assertThat(System.nanoTime()).as("no checkpoint in time").isLessThan(deadline);
          String latest = Files.exists(pointer) ? Files.readString(pointer).strip() : "";
          if (latest.compareTo(CheckpointStore.fileName(minStep)) >= 0) {
            break;
          }
          Thread.sleep(20);
        }
        Thread.sleep(150); // mid-step, most likely inside a collective or the backward
        long killedAt = System.nanoTime();
        ranks[victim].destroyForcibly(); // SIGKILL
        assertThat(ranks[survivor].waitFor(TIMEOUT_S + 30, TimeUnit.SECONDS))
            .as("survivor exited:\n%s", log(logs[survivor]))
            .isTrue();
        double seconds = (System.nanoTime() - killedAt) / 1e9;
        String out = log(logs[survivor]);
        System.out.printf(
            "killed rank %d: rank %d exited with %d after %.1f s: %s%n",
            victim,
            survivor,
            ranks[survivor].exitValue(),
            seconds,
            out.lines().filter(l -> l.startsWith("rectok-child")).findFirst().orElse("?"));
        assertThat(ranks[survivor].exitValue()).isNotZero();
        assertThat(out).contains("lost rank " + victim);
        assertThat(seconds).as("within the timeout").isLessThan(TIMEOUT_S);
      } finally {
        for (Process p : ranks) {
          p.destroyForcibly();
          p.waitFor(10, TimeUnit.SECONDS);
        }
      }
      minStep = Long.parseLong(Files.readString(pointer).strip().replaceAll("\\D", "")) + 4;
    }
    // the rerun resumes from the last checkpoint and finishes
    long resumedFrom = Long.parseLong(Files.readString(pointer).strip().replaceAll("\\D", ""));
    long target = resumedFrom + 6;
    int port = Forks.freePort();
    Process[] ranks = new Process[2];
    for (int r = 0; r < 2; r++) {
      ranks[r] =
          Forks.startRank(
              DpRunChild.class,
              List.of(dir.toString(), "" + target, "" + TIMEOUT_S),
              r,
              2,
              port,
              tmp.resolve("final-rank" + r + ".log"));
    }
    for (int r = 0; r < 2; r++) {
      assertThat(ranks[r].waitFor(180, TimeUnit.SECONDS)).isTrue();
      assertThat(ranks[r].exitValue()).as(log(tmp.resolve("final-rank" + r + ".log"))).isZero();
      assertThat(log(tmp.resolve("final-rank" + r + ".log")))
          .contains("done at step " + target + " (resumed at " + resumedFrom + ")");
    }
    try (RunDirectory run = RunDirectory.open(dir, Map.of("kind", "dp-test"), 3)) {
      assertThat(run.readMetrics())
          .extracting((JsonNode n) -> n.get("step").asLong())
          .containsExactlyElementsOf(LongStream.rangeClosed(1, target).boxed().toList());
    }
  }
}
