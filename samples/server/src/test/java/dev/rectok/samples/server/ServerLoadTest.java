package dev.rectok.samples.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.samples.server.Fixture.Response;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * A bounded load test on 127.0.0.1: concurrent clients send valid and malformed requests; no answer
 * is a 5xx, every answer equals the serial one byte for byte, and native memory is flat after
 * warm-up. Also overload (503), timeouts and a client that goes away mid-sampling.
 */
class ServerLoadTest {

  /** A request and the answer it got when sent alone. */
  record Call(String method, String path, byte[] body) {
    String key() {
      return method + " " + path + " #" + Arrays.hashCode(body);
    }
  }

  static byte[] png(BufferedImage img) {
    try {
      return RecTokServer.png(img);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  static BufferedImage image(int w, int h, int type, long seed) {
    BufferedImage img = new BufferedImage(w, h, type);
    Random r = new Random(seed);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, (r.nextInt(256) << 16) | ((x * 9) & 255) << 8 | ((y * 7) & 255));
      }
    }
    return img;
  }

  static List<Call> calls() {
    List<Call> calls = new ArrayList<>();
    byte[] gray = png(image(20, 20, BufferedImage.TYPE_BYTE_GRAY, 1));
    byte[] rgb = png(image(32, 32, BufferedImage.TYPE_INT_RGB, 2));
    byte[] wide = png(image(50, 40, BufferedImage.TYPE_INT_RGB, 3));
    calls.add(new Call("POST", "/v1/reconstruct", gray));
    calls.add(new Call("POST", "/v1/reconstruct?fit=resize", wide));
    calls.add(new Call("POST", "/v1/reconstruct?fit=tile", wide));
    calls.add(new Call("POST", "/v1/encode", rgb));
    calls.add(new Call("POST", "/v1/encode", gray));
    float[] z = new float[32 * 4 * 4];
    for (int i = 0; i < z.length; i++) {
      z[i] = (float) Math.sin(i);
    }
    ByteBuffer b = ByteBuffer.allocate(z.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(z);
    calls.add(new Call("POST", "/v1/decode", b.array()));
    for (int label = 0; label < 10; label += 3) {
      calls.add(
          new Call(
              "POST", "/v1/generate?label=" + label + "&seed=" + (label * 31) + "&steps=8", null));
    }
    calls.add(
        new Call(
            "POST", "/v1/generate?label=7&seed=5&steps=8&guidance=autoguidance&scale=1.5", null));
    calls.add(new Call("POST", "/v1/generate?label=2&seed=9&steps=8&guidance=cfg&scale=2", null));
    // malformed: each must be a clean 4xx
    calls.add(new Call("POST", "/v1/reconstruct", "not an image".getBytes(StandardCharsets.UTF_8)));
    calls.add(new Call("POST", "/v1/reconstruct", new byte[0]));
    calls.add(new Call("POST", "/v1/reconstruct", Arrays.copyOf(rgb, rgb.length / 2)));
    calls.add(new Call("POST", "/v1/reconstruct?fit=stretch", rgb));
    calls.add(new Call("POST", "/v1/generate?label=10", null));
    calls.add(new Call("POST", "/v1/generate?label=abc", null));
    calls.add(new Call("POST", "/v1/generate", null));
    calls.add(new Call("POST", "/v1/generate?label=1&steps=0", null));
    calls.add(new Call("POST", "/v1/generate?label=1&guidance=magic", null));
    calls.add(new Call("POST", "/v1/generate?label=1&scale=NaN", null));
    calls.add(new Call("POST", "/v1/decode", new byte[12]));
    byte[] nan = b.array().clone();
    ByteBuffer.wrap(nan).order(ByteOrder.LITTLE_ENDIAN).putFloat(8, Float.NaN);
    calls.add(new Call("POST", "/v1/decode", nan));
    calls.add(new Call("GET", "/v1/encode", null));
    calls.add(new Call("POST", "/v1/encode", new byte[300_000])); // above the 256 KiB body limit
    calls.add(
        new Call(
            "POST", "/v1/encode", png(new BufferedImage(800, 800, BufferedImage.TYPE_BYTE_GRAY))));
    calls.add(new Call("GET", "/health", null));
    return calls;
  }

  static ServerConfig config() {
    return ServerConfig.defaults()
        .withConcurrency(2, 64)
        .withSizeLimits(256 << 10, 500_000)
        .withTimeouts(Duration.ofSeconds(60), Duration.ofSeconds(60));
  }

  @Test
  void concurrentClientsGetSerialBytesNo5xxAndFlatMemory() throws Exception {
    List<Call> calls = calls();
    try (RecTokServer server = Fixture.start(config())) {
      int port = server.port();
      Map<String, Response> serial = new ConcurrentHashMap<>();
      for (Call c : calls) {
        Response r = Fixture.call(port, c.method(), c.path(), c.body());
        assertThat(r.status()).as(c.key() + ": " + r.text()).isLessThan(500);
        serial.put(c.key(), r);
      }
      assertThat(serial.values().stream().filter(r -> r.status() == 200).count()).isEqualTo(12 + 1);
      assertThat(serial.values().stream().map(Response::status)).contains(400, 405, 413, 415);

      int clients = 8;
      int rounds = 2;
      runLoad(port, calls, clients, 1, serial, null); // warm-up: every path once concurrently
      long liveAfterWarmUp = Fixture.BACKEND.nativeMemory().liveTensors();
      long rssAfterWarmUp = Fixture.BACKEND.nativeMemory().residentBytes();
      Map<String, List<Long>> latencies = new TreeMap<>();
      long t0 = System.nanoTime();
      int n = runLoad(port, calls, clients, rounds, serial, latencies);
      double seconds = (System.nanoTime() - t0) / 1e9;
      long live = Fixture.BACKEND.nativeMemory().liveTensors();
      long rss = Fixture.BACKEND.nativeMemory().residentBytes();

      assertThat(server.metrics().countStatus(500, 599)).isZero();
      assertThat(live).isEqualTo(liveAfterWarmUp);
      assertThat(rss - rssAfterWarmUp).as("RSS growth after warm-up").isLessThan(96L << 20);
      StringBuilder report =
          new StringBuilder(
              String.format(
                  "load: %d clients, %d requests in %.2f s = %.1f req/s; "
                      + "RSS %+.1f MiB after warm-up; load average %s%n",
                  clients,
                  n,
                  seconds,
                  n / seconds,
                  (rss - rssAfterWarmUp) / 1048576.0,
                  java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim()));
      latencies.forEach(
          (k, v) -> {
            Collections.sort(v);
            report.append(
                String.format(
                    "  %-28s n=%3d p50 %6.1f ms  p95 %6.1f ms%n",
                    k, v.size(), v.get(v.size() / 2) / 1e6, v.get((int) (v.size() * 0.95)) / 1e6));
          });
      System.out.print(report);
      java.nio.file.Files.writeString(
          java.nio.file.Path.of("target", "load-test-report.txt"), report);
    }
  }

  /**
   * Every client sends every call {@code rounds} times in its own shuffled order; each answer must
   * equal the serial one.
   */
  private static int runLoad(
      int port,
      List<Call> calls,
      int clients,
      int rounds,
      Map<String, Response> serial,
      Map<String, List<Long>> latencies)
      throws Exception {
    List<Future<Integer>> done = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int c = 0; c < clients; c++) {
        int seed = c;
        done.add(
            pool.submit(
                () -> {
                  List<Call> mine = new ArrayList<>();
                  for (int r = 0; r < rounds; r++) {
                    mine.addAll(calls);
                  }
                  Collections.shuffle(mine, new Random(seed));
                  for (Call call : mine) {
                    long t = System.nanoTime();
                    Response r = Fixture.call(port, call.method(), call.path(), call.body());
                    long dt = System.nanoTime() - t;
                    Response expected = serial.get(call.key());
                    assertThat(r.status())
                        .as(call.key() + ": " + r.text())
                        .isEqualTo(expected.status());
                    assertThat(r.body()).as(call.key()).isEqualTo(expected.body());
                    if (latencies != null && r.status() == 200) {
                      String name =
                          call.path()
                              .replaceAll("\\?.*(guidance=\\w+).*", " $1")
                              .replaceAll("\\?.*", "");
                      synchronized (latencies) {
                        latencies.computeIfAbsent(name, k -> new ArrayList<>()).add(dt);
                      }
                    }
                  }
                  return mine.size();
                }));
      }
      int n = 0;
      for (Future<Integer> f : done) {
        n += f.get();
      }
      return n;
    }
  }

  @Test
  void overloadIsA503WithRetryAfterNeverA500() throws Exception {
    ServerConfig c =
        ServerConfig.defaults()
            .withConcurrency(1, 1)
            .withTimeouts(Duration.ofSeconds(60), Duration.ofSeconds(60));
    try (RecTokServer server = Fixture.start(c)) {
      List<Future<Response>> all = new ArrayList<>();
      try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int i = 0; i < 6; i++) {
          int seed = i;
          all.add(
              pool.submit(
                  () ->
                      Fixture.call(
                          server.port(),
                          "POST",
                          "/v1/generate?label=1&steps=200&guidance=autoguidance&seed=" + seed,
                          null)));
        }
      }
      List<Integer> statuses = new ArrayList<>();
      for (Future<Response> f : all) {
        statuses.add(f.get().status());
      }
      assertThat(statuses).contains(200, 503).doesNotContain(500);
      assertThat(server.metrics().countStatus(500, 500)).isZero();
    }
  }

  @Test
  void aRequestPastItsTimeoutIsCancelled() throws Exception {
    ServerConfig c =
        new ServerConfig(
            "127.0.0.1",
            0,
            1,
            4,
            Duration.ofSeconds(10),
            Duration.ofMillis(300),
            1 << 20,
            1 << 20,
            100_000);
    try (RecTokServer server = Fixture.start(c)) {
      long t = System.nanoTime();
      Response r = Fixture.call(server.port(), "POST", "/v1/generate?label=1&steps=100000", null);
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.text()).contains("cancelled");
      assertThat((System.nanoTime() - t) / 1e9).isLessThan(20);
      assertThat(server.metrics().cancelled()).isEqualTo(1);
    }
  }

  @Test
  void samplingStopsWhenTheClientGoesAway() throws Exception {
    ServerConfig c =
        new ServerConfig(
            "127.0.0.1",
            0,
            1,
            4,
            Duration.ofSeconds(10),
            Duration.ofSeconds(600),
            1 << 20,
            1 << 20,
            100_000);
    try (RecTokServer server = Fixture.start(c)) {
      try (Socket s = new Socket("127.0.0.1", server.port())) {
        OutputStream out = s.getOutputStream();
        out.write(
            ("POST /v1/generate?label=3&steps=100000 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (server.metrics().inFlight.get() == 0 && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertThat(server.metrics().inFlight.get()).isEqualTo(1);
        Thread.sleep(300); // sampling is under way
      } // the client closes its socket here
      long t = System.nanoTime();
      while (server.metrics().cancelled() == 0 && System.nanoTime() - t < 20_000_000_000L) {
        Thread.sleep(20);
      }
      assertThat(server.metrics().cancelled()).isEqualTo(1);
      assertThat((System.nanoTime() - t) / 1e9).as("seconds until sampling stopped").isLessThan(5);
      // and the server still serves
      assertThat(Fixture.call(server.port(), "GET", "/health", null).status()).isEqualTo(200);
      assertThat(Fixture.call(server.port(), "GET", "/metrics", null).text())
          .contains("rectok_cancelled_total 1");
    }
  }

  @Test
  void theSameIsServedForAnImageSentAsAFileWouldBe() throws Exception {
    try (RecTokServer server = Fixture.start(config())) {
      BufferedImage in = image(45, 33, BufferedImage.TYPE_BYTE_GRAY, 7);
      Response r = Fixture.call(server.port(), "POST", "/v1/reconstruct?fit=tile", png(in));
      BufferedImage out = ImageIO.read(new java.io.ByteArrayInputStream(r.body()));
      assertThat(out.getWidth()).isEqualTo(45);
      assertThat(out.getHeight()).isEqualTo(33);
      assertThat(out.getType()).isEqualTo(BufferedImage.TYPE_BYTE_GRAY);
      assertThat(r.body())
          .isEqualTo(png(Fixture.TOKENIZER.reconstruct(in, dev.rectok.api.ImageFit.TILE)));
    }
  }
}
