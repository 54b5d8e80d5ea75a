package dev.rectok.samples.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.GenerateOptions;
import dev.rectok.api.Progress;
import dev.rectok.samples.server.Fixture.Response;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * Micro-batching (issue 13): batched answers equal the batch-of-one answers within a measured pixel
 * bound, identical batches give identical bytes, each request keeps its own cancellation, errors
 * and overload reach every request of a batch, and {@code /metrics} reports the batch sizes.
 */
class ServerBatchingTest {
  /**
   * Largest |batched − alone| pixel difference allowed, in 1/255 steps. Measured on the demo models
   * (8 Euler steps, every guidance kind, batches of 8): at most 1; the latents differ by about 1e-5
   * after batched GEMMs, which rounds to the same byte almost everywhere.
   */
  static final int PIXEL_TOLERANCE = 2;

  private static ServerConfig batching(int maxBatch, Duration window) {
    return ServerConfig.defaults()
        .withConcurrency(2, 16)
        .withTimeouts(Duration.ofSeconds(60), Duration.ofSeconds(60))
        .withBatching(maxBatch, window);
  }

  /** One model slot, {@code queue} waiting batches, {@code request} per request, no step limit. */
  private static ServerConfig oneSlot(int queue, Duration request) {
    return new ServerConfig(
        "127.0.0.1", 0, 1, queue, Duration.ofSeconds(10), request, 1 << 20, 1 << 20, 100_000);
  }

  private static String path(long label, long seed, String settings) {
    return "/v1/generate?label=" + label + "&seed=" + seed + "&" + settings;
  }

  /** Sends every path at once, each from its own client; the answers in the order of paths. */
  private static List<Response> concurrently(int port, List<String> paths) throws Exception {
    List<Future<Response>> futures = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (String p : paths) {
        futures.add(pool.submit(() -> Fixture.call(port, "POST", p, null)));
      }
    }
    List<Response> out = new ArrayList<>();
    for (Future<Response> f : futures) {
      out.add(f.get());
    }
    return out;
  }

  private static Raster pixels(byte[] png) {
    try {
      BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
      return img.getData();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static int maxPixelDifference(byte[] a, byte[] b) {
    Raster x = pixels(a);
    Raster y = pixels(b);
    assertThat(x.getWidth()).isEqualTo(y.getWidth());
    assertThat(x.getHeight()).isEqualTo(y.getHeight());
    int[] p = x.getPixels(0, 0, x.getWidth(), x.getHeight(), (int[]) null);
    int[] q = y.getPixels(0, 0, y.getWidth(), y.getHeight(), (int[]) null);
    assertThat(p).hasSameSizeAs(q);
    int worst = 0;
    for (int i = 0; i < p.length; i++) {
      worst = Math.max(worst, Math.abs(p[i] - q[i]));
    }
    return worst;
  }

  @Test
  void batchedAnswersEqualAloneAnswersWithinTheBoundAndIdenticalBatchesAreIdentical()
      throws Exception {
    int n = 8;
    String[] settings = {
      "steps=8", "steps=8&guidance=cfg&scale=2", "steps=6&guidance=autoguidance"
    };
    // window 0: requests sent one at a time run alone (batches of one)
    try (RecTokServer alone = Fixture.start(batching(n, Duration.ZERO));
        RecTokServer batched = Fixture.start(batching(n, Duration.ofSeconds(5)))) {
      StringBuilder report = new StringBuilder();
      for (String set : settings) {
        List<String> paths = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          paths.add(path(i % 10, 1000L * i - 3, set));
        }
        List<byte[]> serial = new ArrayList<>();
        for (String p : paths) {
          Response r = Fixture.call(alone.port(), "POST", p, null);
          assertThat(r.status()).as(p + ": " + r.text()).isEqualTo(200);
          serial.add(r.body());
        }
        // n requests at once fill one batch of n (the 5 s window never ends it)
        long before = batched.metrics().batches();
        List<Response> once = concurrently(batched.port(), paths);
        assertThat(batched.metrics().batches() - before).isEqualTo(1);
        int worst = 0;
        for (int i = 0; i < n; i++) {
          assertThat(once.get(i).status()).as(once.get(i).text()).isEqualTo(200);
          worst = Math.max(worst, maxPixelDifference(once.get(i).body(), serial.get(i)));
        }
        report.append(String.format("batching %s: max |batched - alone| %d/255%n", set, worst));
        assertThat(worst).as(set).isLessThanOrEqualTo(PIXEL_TOLERANCE);
        // the same requests in another arrival order: the same batch, the same bytes
        List<String> shuffled = new ArrayList<>(paths);
        Collections.shuffle(shuffled, new Random(7));
        List<Response> again = concurrently(batched.port(), shuffled);
        for (int i = 0; i < n; i++) {
          assertThat(again.get(i).body())
              .as(shuffled.get(i))
              .isEqualTo(once.get(paths.indexOf(shuffled.get(i))).body());
        }
      }
      System.out.print(report);
      // a lone request is the one-sample per-seed call, byte for byte
      var z =
          Fixture.GENERATOR.sample(
              new long[] {3},
              new long[] {2997},
              GenerateOptions.builder().gridPoints(9).build(),
              Progress.NONE);
      assertThat(Fixture.call(alone.port(), "POST", path(3, 2997, "steps=8"), null).body())
          .isEqualTo(RecTokServer.png(Fixture.TOKENIZER.decode(z).getFirst()));
      assertThat(alone.metrics().meanBatchSize()).isEqualTo(1.0);
      assertThat(batched.metrics().meanBatchSize()).isEqualTo(n);
      assertThat(Fixture.call(batched.port(), "GET", "/metrics", null).text())
          .contains("rectok_generate_batch_size_bucket{le=\"4\"} 0")
          .contains("rectok_generate_batch_size_bucket{le=\"8\"} 6")
          .contains("rectok_generate_batch_size_sum 48")
          .contains("rectok_generate_batch_size_count 6");
      assertThat(batched.metrics().countStatus(500, 599)).isZero();
    }
  }

  @Test
  void aClientThatGoesAwayDropsItsRowAndTheOthersGetTheirImages() throws Exception {
    ServerConfig c = oneSlot(4, Duration.ofSeconds(600)).withBatching(3, Duration.ofSeconds(5));
    String settings = "steps=300";
    try (RecTokServer server = Fixture.start(c);
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<Response> a =
          pool.submit(() -> Fixture.call(server.port(), "POST", path(1, 11, settings), null));
      Future<Response> b =
          pool.submit(() -> Fixture.call(server.port(), "POST", path(2, 22, settings), null));
      try (Socket s = new Socket("127.0.0.1", server.port())) {
        OutputStream out = s.getOutputStream();
        out.write(
            ("POST "
                    + path(3, 33, settings)
                    + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (server.metrics().batches() == 0 && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        assertThat(server.metrics().batches()).isEqualTo(1);
        Thread.sleep(200); // sampling is under way
      } // the third client closes its socket here
      assertThat(a.get().status()).as(a.get().text()).isEqualTo(200);
      assertThat(b.get().status()).as(b.get().text()).isEqualTo(200);
      long t = System.nanoTime();
      while (server.metrics().cancelled() == 0 && System.nanoTime() - t < 10_000_000_000L) {
        Thread.sleep(10);
      }
      assertThat(server.metrics().cancelled()).isEqualTo(1);
      assertThat(server.metrics().meanBatchSize()).isEqualTo(3.0);
      assertThat(server.metrics().countStatus(500, 500)).isZero(); // the dropped row's 503 counts
    }
  }

  @Test
  void aRequestPastItsDeadlineIsAnsweredAtItsDeadlineAndAnEmptyBatchStops() throws Exception {
    ServerConfig c = oneSlot(4, Duration.ofMillis(400)).withBatching(4, Duration.ofMillis(20));
    try (RecTokServer server = Fixture.start(c)) {
      long t = System.nanoTime();
      List<Response> rs =
          concurrently(
              server.port(), List.of(path(1, 1, "steps=100000"), path(2, 2, "steps=100000")));
      for (Response r : rs) {
        assertThat(r.status()).isEqualTo(503);
        assertThat(r.text()).contains("cancelled");
      }
      assertThat((System.nanoTime() - t) / 1e9).isLessThan(10);
      assertThat(server.metrics().cancelled()).isEqualTo(2);
      // the model call stopped once both rows were gone: the next request is served at once
      Response next = Fixture.call(server.port(), "POST", path(4, 4, "steps=4"), null);
      assertThat(next.status()).as(next.text()).isEqualTo(200);
    }
  }

  @Test
  void overloadReachesEveryRequestOfTheBatchWithTheReason() throws Exception {
    ServerConfig c = oneSlot(0, Duration.ofSeconds(60)).withBatching(2, Duration.ofSeconds(5));
    try (RecTokServer server = Fixture.start(c);
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      // a batch of two long calls holds the one slot
      List<Future<Response>> busy = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        long seed = i;
        busy.add(
            pool.submit(
                () -> Fixture.call(server.port(), "POST", path(1, seed, "steps=150"), null)));
      }
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (server.metrics().batches() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      // another full batch finds no slot and no queue room: both of its requests hear why
      List<Response> refused =
          concurrently(server.port(), List.of(path(5, 1, "steps=4"), path(6, 2, "steps=4")));
      for (Response r : refused) {
        assertThat(r.status()).isEqualTo(503);
        assertThat(r.text()).contains("overloaded");
      }
      for (Future<Response> f : busy) {
        assertThat(f.get().status()).isEqualTo(200);
      }
      assertThat(server.metrics().countStatus(500, 500)).isZero();
    }
  }

  /** The demo generator, except that any call sampling label 9 diverges. */
  private static final class DivergesOnNine implements dev.rectok.api.Generator {
    @Override
    public int[] latentShape() {
      return Fixture.GENERATOR.latentShape();
    }

    @Override
    public int numClasses() {
      return Fixture.GENERATOR.numClasses();
    }

    @Override
    public dev.rectok.api.Latents sample(
        long[] labels, long seed, GenerateOptions options, Progress progress) {
      return Fixture.GENERATOR.sample(labels, seed, options, progress);
    }

    @Override
    public dev.rectok.api.Latents sample(
        long[] labels, long[] seeds, GenerateOptions options, Progress progress) {
      if (java.util.Arrays.stream(labels).anyMatch(l -> l == 9)) {
        throw new ArithmeticException("sampling produced a non-finite latent (label 9)");
      }
      return Fixture.GENERATOR.sample(labels, seeds, options, progress);
    }

    @Override
    public void close() {}
  }

  @Test
  void aDivergingRowFailsAloneWithTheReasonAndItsBatchMatesAreServed() throws Exception {
    try (RecTokServer server =
        new RecTokServer(
            batching(3, Duration.ofSeconds(5)),
            Fixture.TOKENIZER,
            new DivergesOnNine(),
            Fixture.BACKEND)) {
      server.start();
      List<Response> rs =
          concurrently(
              server.port(),
              List.of(path(1, 5, "steps=4"), path(9, 6, "steps=4"), path(2, 7, "steps=4")));
      assertThat(rs.get(0).status()).as(rs.get(0).text()).isEqualTo(200);
      assertThat(rs.get(2).status()).as(rs.get(2).text()).isEqualTo(200);
      assertThat(rs.get(1).status()).isEqualTo(500);
      assertThat(rs.get(1).text()).contains("generation failed").contains("non-finite");
      // served rows are what they would be alone: batch-of-one calls of the real generator
      var z =
          Fixture.GENERATOR.sample(
              new long[] {1},
              new long[] {5},
              GenerateOptions.builder().gridPoints(5).build(),
              Progress.NONE);
      assertThat(rs.get(0).body())
          .isEqualTo(RecTokServer.png(Fixture.TOKENIZER.decode(z).getFirst()));
      // one batch of 3, then the three rows alone
      assertThat(server.metrics().batches()).isEqualTo(4);
    }
  }

  @Test
  void badGenerateSettingsAreRefusedBeforeBatching() throws Exception {
    try (RecTokServer server = Fixture.start(batching(4, Duration.ofMillis(5)))) {
      Response r = Fixture.call(server.port(), "POST", "/v1/generate?label=1&steps=0", null);
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.text()).contains("steps");
      assertThat(server.metrics().batches()).isZero();
    }
  }

  @Test
  void mainOptionsAreCheckedWithTheAllowedRange() {
    ServerConfig c =
        MainOptions.config(
            MainOptions.parse(new String[] {"--max-batch", "8", "--batch-window-ms", "3"}));
    assertThat(c.maxBatch()).isEqualTo(8);
    assertThat(c.batchWindow()).isEqualTo(Duration.ofMillis(3));
    assertThat(MainOptions.config(Map.of()).maxBatch()).isEqualTo(1);
    assertThatThrownBy(() -> MainOptions.config(Map.of("max-batch", "0")))
        .hasMessage("--max-batch must be in 1..256, got 0");
    assertThatThrownBy(() -> MainOptions.config(Map.of("max-batch", "many")))
        .hasMessageContaining("--max-batch must be an integer in 1..256");
    assertThatThrownBy(() -> MainOptions.config(Map.of("batch-window-ms", "10001")))
        .hasMessage("--batch-window-ms must be in 0..10000, got 10001");
    assertThatThrownBy(() -> MainOptions.parse(new String[] {"--max-batches", "2"}))
        .hasMessageContaining("unknown option --max-batches");
    assertThatThrownBy(() -> MainOptions.parse(new String[] {"--max-batch"}))
        .hasMessageContaining("needs a value");
    assertThatThrownBy(
            () -> ServerConfig.defaults().withBatching(257, ServerConfig.DEFAULT_BATCH_WINDOW))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxBatch must be in 1..256");
  }
}
