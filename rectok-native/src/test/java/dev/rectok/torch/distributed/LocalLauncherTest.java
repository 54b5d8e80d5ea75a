package dev.rectok.torch.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher: torchrun's environment per rank, prefixed output, all stopped when one fails. */
class LocalLauncherTest {

  static LocalLauncher launcher(String script, int n) {
    return new LocalLauncher(
        List.of("sh", "-c", script),
        n,
        1,
        0,
        "127.0.0.1",
        29999,
        Duration.ofSeconds(2),
        Map.of("OMP_NUM_THREADS", "1"));
  }

  @Test
  void everyRankGetsTorchrunsEnvironmentAndItsOutputIsPrefixed() throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int code =
        launcher(
                "echo \"$RANK/$WORLD_SIZE local $LOCAL_RANK/$LOCAL_WORLD_SIZE at $MASTER_ADDR:$MASTER_PORT\"",
                3)
            .run(new PrintStream(buf, true, StandardCharsets.UTF_8));
    String out = buf.toString(StandardCharsets.UTF_8);
    assertThat(code).isZero();
    for (int r = 0; r < 3; r++) {
      assertThat(out).contains("[rank " + r + "] " + r + "/3 local " + r + "/3 at 127.0.0.1:29999");
    }
  }

  @Test
  void whenOneRankFailsTheOthersAreStoppedAndItsCodeReturned(@TempDir Path tmp) throws Exception {
    // rank 1 fails at once; ranks 0 and 2 would sleep a minute: they must be gone, not orphaned
    String script =
        "echo $$ > "
            + tmp
            + "/pid-$RANK; if [ \"$RANK\" = 1 ]; then sleep 0.5; exit 3; fi; exec sleep 60";
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    long t0 = System.nanoTime();
    int code = launcher(script, 3).run(new PrintStream(buf, true, StandardCharsets.UTF_8));
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertThat(code).isEqualTo(3);
    assertThat(buf.toString(StandardCharsets.UTF_8))
        .contains("[launch] rank 1 exited with code 3; stopping the 2 other");
    assertThat(seconds).isLessThan(30);
    for (int r : new int[] {0, 2}) {
      long pid = Long.parseLong(Files.readString(tmp.resolve("pid-" + r)).strip());
      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
          .as("rank %d stopped", r)
          .isFalse();
    }
  }

  @Test
  void optionsAreCheckedByName() {
    assertThatThrownBy(
            () -> new LocalLauncher(List.of("x"), 0, 1, 0, "a", 1, Duration.ZERO, Map.of()))
        .hasMessageContaining("--nproc-per-node must be >= 1");
    assertThatThrownBy(
            () -> new LocalLauncher(List.of("x"), 1, 2, 2, "a", 1, Duration.ZERO, Map.of()))
        .hasMessageContaining("--node-rank must be in 0..1");
    assertThatThrownBy(
            () -> new LocalLauncher(List.of("x"), 1, 1, 0, "a", 0, Duration.ZERO, Map.of()))
        .hasMessageContaining("--master-port must be in 1..65535");
    LocalLauncher l =
        new LocalLauncher(List.of("x"), 4, 2, 1, "10.0.0.1", 29500, Duration.ZERO, Map.of());
    Map<String, String> env = l.environment(3, 8);
    assertThat(env)
        .containsEntry("RANK", "7")
        .containsEntry("WORLD_SIZE", "8")
        .containsEntry("LOCAL_RANK", "3")
        .containsEntry("LOCAL_WORLD_SIZE", "4")
        .containsEntry("MASTER_ADDR", "10.0.0.1");
  }
}
