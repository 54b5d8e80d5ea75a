package dev.rectok.samples.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.api.GenerateOptions;
import dev.rectok.api.Progress;
import dev.rectok.samples.server.Fixture.Response;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** The server answers the same bytes for the same request, and what the SDK itself computes. */
class ServerPropertyTest {
  private static RecTokServer server;

  @BeforeContainer
  static void start() throws IOException {
    server =
        Fixture.start(
            ServerConfig.defaults()
                .withConcurrency(2, 16)
                .withTimeouts(Duration.ofSeconds(60), Duration.ofSeconds(60)));
  }

  @AfterContainer
  static void stop() {
    server.close();
  }

  @Property(tries = 10)
  void sameRequestSameBytesAsTheSdk(
      @ForAll @IntRange(min = 0, max = 9) int label,
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 6) int steps)
      throws Exception {
    String path = "/v1/generate?label=" + label + "&seed=" + seed + "&steps=" + steps;
    CompletableFuture<Response> a =
        CompletableFuture.supplyAsync(() -> Fixture.call(server.port(), "POST", path, null));
    CompletableFuture<Response> b =
        CompletableFuture.supplyAsync(() -> Fixture.call(server.port(), "POST", path, null));
    assertThat(a.get().status()).isEqualTo(200);
    assertThat(a.get().body()).isEqualTo(b.get().body());
    var z =
        Fixture.GENERATOR.sample(
            new long[] {label},
            seed,
            GenerateOptions.builder().gridPoints(steps + 1).build(),
            Progress.NONE);
    assertThat(a.get().body()).isEqualTo(RecTokServer.png(Fixture.TOKENIZER.decode(z).getFirst()));
  }
}
