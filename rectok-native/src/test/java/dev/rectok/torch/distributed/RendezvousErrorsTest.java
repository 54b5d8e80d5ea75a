package dev.rectok.torch.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What goes wrong before training starts fails with a message that says what, in bounded time: the
 * port taken, a missing peer, rank 0 unreachable, WORLD_SIZE differing between ranks, a rank
 * started twice, malformed torchrun variables. Ranks run on threads of this JVM.
 */
class RendezvousErrorsTest {
  static final Duration SHORT = Duration.ofSeconds(3);

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static DistributedEnv env(int rank, int world, int port) {
    return new DistributedEnv(rank, world, rank, world, "127.0.0.1", port, null);
  }

  /** The message of what {@code init} threw, or "joined" (closing what it got). */
  static CompletableFuture<String> join(DistributedEnv e, Duration timeout) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (DistributedContext c = DistributedContext.init(e, timeout)) {
            return "joined";
          } catch (DistributedException ex) {
            return ex.getMessage();
          }
        },
        task ->
            Thread.ofPlatform().start(task)); // a thread per rank (the common pool may have one)
  }

  @Test
  void aPortInUseIsNamed() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      long t0 = System.nanoTime();
      String m = join(env(0, 2, taken.getLocalPort()), SHORT).get(60, TimeUnit.SECONDS);
      assertThat(m)
          .contains("rank 0 could not serve the store on 127.0.0.1:" + taken.getLocalPort())
          .contains("port in use");
      assertThat((System.nanoTime() - t0) / 1e9).isLessThan(30);
    }
  }

  @Test
  void aMissingPeerIsNamedAfterTheTimeout() throws Exception {
    long t0 = System.nanoTime();
    String m = join(env(0, 3, freePort()), SHORT).get(60, TimeUnit.SECONDS);
    double s = (System.nanoTime() - t0) / 1e9;
    assertThat(m).contains("ranks 1, 2 of WORLD_SIZE=3 did not join").contains("within 3 s");
    assertThat(s).isBetween(2.5, 30.0);
  }

  @Test
  void anUnreachableRankZeroIsNamed() throws Exception {
    String m = join(env(1, 2, freePort()), SHORT).get(60, TimeUnit.SECONDS);
    assertThat(m).contains("rank 1 could not reach rank 0's store at 127.0.0.1");
  }

  @Test
  void aDifferentWorldSizeIsRefusedOnBothSides() throws Exception {
    int port = freePort();
    CompletableFuture<String> zero =
        join(new DistributedEnv(0, 2, 0, 2, "127.0.0.1", port, null), Duration.ofSeconds(20));
    CompletableFuture<String> one =
        join(new DistributedEnv(1, 3, 1, 3, "127.0.0.1", port, null), Duration.ofSeconds(20));
    long t0 = System.nanoTime();
    String a = zero.get(60, TimeUnit.SECONDS);
    String b = one.get(60, TimeUnit.SECONDS);
    assertThat(a).contains("WORLD_SIZE differs between ranks: rank 0 has 2, rank 1 has 3");
    assertThat(b).contains("WORLD_SIZE differs between ranks: rank 1 has 3, rank 0 has 2");
    assertThat((System.nanoTime() - t0) / 1e9).as("fails fast, not at the timeout").isLessThan(15);
  }

  @Test
  void aRankStartedTwiceIsRefused() throws Exception {
    int port = freePort();
    CompletableFuture<String> zero = join(env(0, 3, port), Duration.ofSeconds(5));
    Thread.sleep(300);
    CompletableFuture<String> one = join(env(1, 3, port), Duration.ofSeconds(5));
    CompletableFuture<String> again = join(env(1, 3, port), Duration.ofSeconds(5));
    String[] all = {
      zero.get(60, TimeUnit.SECONDS), one.get(60, TimeUnit.SECONDS), again.get(60, TimeUnit.SECONDS)
    };
    assertThat(all).anyMatch(m -> m.contains("rank 1 was started twice"));
  }

  @Test
  void twoRanksJoinAndAgree() throws Exception {
    int port = freePort();
    CompletableFuture<String> zero = join(env(0, 2, port), Duration.ofSeconds(30));
    CompletableFuture<String> one = join(env(1, 2, port), Duration.ofSeconds(30));
    try {
      assertThat(zero.get(60, TimeUnit.SECONDS)).isEqualTo("joined");
      assertThat(one.get(60, TimeUnit.SECONDS)).isEqualTo("joined");
    } catch (ExecutionException e) {
      throw new AssertionError(e.getCause());
    }
  }

  @Test
  void torchrunVariablesAreReadAndCheckedByName() {
    assertThat(DistributedEnv.from(Map.of())).isEmpty();
    DistributedEnv e =
        DistributedEnv.from(
                Map.of(
                    "WORLD_SIZE",
                    "4",
                    "RANK",
                    "3",
                    "LOCAL_WORLD_SIZE",
                    "2",
                    "MASTER_ADDR",
                    "10.0.0.1",
                    "MASTER_PORT",
                    "1234",
                    "GLOO_SOCKET_IFNAME",
                    "eth0,eth1"))
            .orElseThrow();
    assertThat(e).isEqualTo(new DistributedEnv(3, 4, 1, 2, "10.0.0.1", 1234, "eth0,eth1"));
    assertThat(e.loopback()).isFalse();
    assertThat(e.threadsPerProcess(16)).isEqualTo(8);
    assertThatThrownBy(() -> DistributedEnv.from(Map.of("WORLD_SIZE", "2")))
        .hasMessageContaining("RANK must be set");
    assertThatThrownBy(() -> DistributedEnv.from(Map.of("WORLD_SIZE", "2", "RANK", "2")))
        .hasMessageContaining("RANK must be in 0..1");
    assertThatThrownBy(() -> DistributedEnv.from(Map.of("WORLD_SIZE", "two", "RANK", "0")))
        .hasMessageContaining("WORLD_SIZE must be an integer, got 'two'");
    assertThatThrownBy(
            () ->
                DistributedEnv.from(Map.of("WORLD_SIZE", "2", "RANK", "0", "MASTER_PORT", "70000")))
        .hasMessageContaining("MASTER_PORT must be in 1..65535");
    assertThat(DistributedContext.fromEnvironment(Map.of(), SHORT).size()).isEqualTo(1);
  }
}
