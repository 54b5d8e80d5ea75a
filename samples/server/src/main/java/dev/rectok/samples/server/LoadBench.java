package dev.rectok.samples.server;

import dev.rectok.api.Backends;
import dev.rectok.api.Device;
import dev.rectok.api.Generator;
import dev.rectok.api.Tokenizer;
import dev.rectok.api.spi.Backend;
import dev.rectok.demomodels.FashionMnistModels;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A load generator for micro-batching (issue 13), not a test: starts the server in this process on
 * the shipped Fashion-MNIST demo models once per {@code maxBatch}, fires {@code --clients}
 * concurrent HTTP clients at {@code /v1/generate} ({@code --requests} per setting and round, each
 * its own label and seed) and prints images per second, median and p95 latency, the process's CPU
 * time per image, the mean batch size and the load average, for every {@code --batches} value,
 * alternated over {@code --rounds} in one run (odd rounds in reverse order, so drift in the
 * machine's load hits every setting alike). {@code maxBatch} 1 is the unbatched server.
 *
 * <p>Run: {@code java -p target/rectok-sample-server-*.jar:target/lib --enable-native-access
 * dev.rectok.torch -m dev.rectok.samples.server/dev.rectok.samples.server.LoadBench [--clients 16]
 * [--requests 96] [--steps 8] [--batches 1,2,4,8,16] [--rounds 2] [--window-ms 5] [--concurrency 2]
 * [--direct true]}; {@code --direct true} times the models alone instead (no server, no HTTP, no
 * PNG: one thread, consecutive batches of each size). Single-threaded driver; not for embedding.
 */
public final class LoadBench {
  private LoadBench() {}

  /** One setting's measurement. */
  private record Row(
      int round,
      int maxBatch,
      double imagesPerSecond,
      double p50Ms,
      double p95Ms,
      double cpuMsPerImage,
      double meanBatch,
      String load) {}

  /**
   * Runs the measurement and prints the table.
   *
   * @param args the options (see the class comment)
   * @throws Exception when the models cannot be opened or a request fails
   */
  public static void main(String[] args) throws Exception {
    Map<String, String> a = new TreeMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    int clients = Integer.parseInt(a.getOrDefault("clients", "16"));
    int requests = Integer.parseInt(a.getOrDefault("requests", "96"));
    int steps = Integer.parseInt(a.getOrDefault("steps", "8"));
    int rounds = Integer.parseInt(a.getOrDefault("rounds", "2"));
    int window = Integer.parseInt(a.getOrDefault("window-ms", "5"));
    int concurrency = Integer.parseInt(a.getOrDefault("concurrency", "2"));
    int[] batches =
        Arrays.stream(a.getOrDefault("batches", "1,2,4,8,16").split(","))
            .mapToInt(Integer::parseInt)
            .toArray();
    Backend backend = Backends.load(LoadBench.class.getClassLoader());
    List<Row> rows = new ArrayList<>();
    try (Tokenizer tok =
            Backends.openTokenizerResource(
                FashionMnistModels.TOKENIZER, FashionMnistModels.loader(), Device.CPU);
        Generator gen =
            Backends.openGeneratorResource(
                FashionMnistModels.GENERATOR,
                FashionMnistModels.GUIDE,
                FashionMnistModels.loader(),
                Device.CPU)) {
      System.out.printf(
          Locale.ROOT,
          "LoadBench: %d clients, %d requests per setting, %d Euler steps, window %d ms,"
              + " %d concurrent model calls, %d rounds%n",
          clients,
          requests,
          steps,
          window,
          concurrency,
          rounds);
      if (Boolean.parseBoolean(a.getOrDefault("direct", "false"))) {
        direct(gen, tok, batches, requests, steps, rounds);
        return;
      }
      System.out.println("round maxBatch images/s p50_ms p95_ms cpu_ms/image mean_batch load");
      for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < batches.length; k++) {
          int b = batches[r % 2 == 0 ? k : batches.length - 1 - k];
          ServerConfig c =
              ServerConfig.defaults()
                  .withConcurrency(concurrency, Math.max(32, 2 * clients))
                  .withTimeouts(Duration.ofSeconds(600), Duration.ofSeconds(600))
                  .withBatching(b, Duration.ofMillis(window));
          try (RecTokServer s = new RecTokServer(c, tok, gen, backend)) {
            int port = s.start();
            fire(port, clients, clients, steps, -1 - r); // warm-up, not counted
            long batchesBefore = s.metrics().batches();
            double meanBefore = s.metrics().meanBatchSize();
            long cpu0 = cpuNanos();
            long t0 = System.nanoTime();
            List<Long> lat = fire(port, clients, requests, steps, 1000L * r);
            double secs = (System.nanoTime() - t0) / 1e9;
            long cpu = cpuNanos() - cpu0;
            long nb = s.metrics().batches() - batchesBefore;
            double rowsTimed = s.metrics().meanBatchSize() * s.metrics().batches();
            double rowsWarm = meanBefore * batchesBefore;
            Collections.sort(lat);
            Row row =
                new Row(
                    r,
                    b,
                    requests / secs,
                    lat.get(lat.size() / 2) / 1e6,
                    lat.get((int) Math.min(lat.size() - 1, Math.ceil(lat.size() * 0.95) - 1)) / 1e6,
                    cpu < 0 ? Double.NaN : cpu / 1e6 / requests,
                    b == 1 ? 1 : (rowsTimed - rowsWarm) / Math.max(1, nb),
                    Files.readString(Path.of("/proc/loadavg")).trim().split(" ")[0]);
            rows.add(row);
            System.out.printf(
                Locale.ROOT,
                "%d %d %.2f %.0f %.0f %.0f %.2f %s%n",
                row.round(),
                row.maxBatch(),
                row.imagesPerSecond(),
                row.p50Ms(),
                row.p95Ms(),
                row.cpuMsPerImage(),
                row.meanBatch(),
                row.load());
          }
        }
      }
    }
    System.out.println("maxBatch mean_images/s (over rounds) mean_cpu_ms/image");
    int best = -1;
    double bestRate = 0;
    for (int b : batches) {
      double rate =
          rows.stream()
              .filter(x -> x.maxBatch() == b)
              .mapToDouble(Row::imagesPerSecond)
              .average()
              .orElse(0);
      double cpu =
          rows.stream()
              .filter(x -> x.maxBatch() == b)
              .mapToDouble(Row::cpuMsPerImage)
              .average()
              .orElse(0);
      System.out.printf(Locale.ROOT, "%d %.2f %.0f%n", b, rate, cpu);
      if (rate > bestRate) {
        bestRate = rate;
        best = b;
      }
    }
    System.out.println("most images per second at maxBatch " + best);
  }

  /**
   * The models alone, no server: {@code n} images per batch size as one thread's consecutive
   * per-sample-seed calls and batched decodes; the process's CPU and wall time per image.
   */
  private static void direct(
      Generator gen, Tokenizer tok, int[] batches, int n, int steps, int rounds)
      throws IOException {
    System.out.println("round batch wall_ms/image cpu_ms/image load");
    dev.rectok.api.GenerateOptions o =
        dev.rectok.api.GenerateOptions.builder().gridPoints(steps + 1).build();
    for (int r = 0; r < rounds; r++) {
      for (int k = 0; k < batches.length; k++) {
        int b = batches[r % 2 == 0 ? k : batches.length - 1 - k];
        long[] labels = new long[b];
        long[] seeds = new long[b];
        tok.decode(gen.sample(labels, seeds, o, dev.rectok.api.Progress.NONE)); // warm-up
        long cpu0 = cpuNanos();
        long t0 = System.nanoTime();
        int done = 0;
        while (done < n) {
          for (int i = 0; i < b; i++) {
            labels[i] = (done + i) % 10;
            seeds[i] = 1000L * r + done + i;
          }
          tok.decode(gen.sample(labels, seeds, o, dev.rectok.api.Progress.NONE));
          done += b;
        }
        System.out.printf(
            Locale.ROOT,
            "%d %d %.1f %.1f %s%n",
            r,
            b,
            (System.nanoTime() - t0) / 1e6 / done,
            (cpuNanos() - cpu0) / 1e6 / done,
            Files.readString(Path.of("/proc/loadavg")).trim().split(" ")[0]);
      }
    }
  }

  /** {@code n} generate requests from {@code clients} concurrent clients; their latencies (ns). */
  private static List<Long> fire(int port, int clients, int n, int steps, long seedBase)
      throws Exception {
    AtomicInteger next = new AtomicInteger();
    List<Long> lat = Collections.synchronizedList(new ArrayList<>());
    List<Future<?>> done = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int c = 0; c < clients; c++) {
        done.add(
            pool.submit(
                () -> {
                  for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                    long t = System.nanoTime();
                    int status =
                        post(
                            port,
                            "/v1/generate?label="
                                + (i % 10)
                                + "&seed="
                                + (seedBase * 100_000 + i)
                                + "&steps="
                                + steps);
                    if (status != 200) {
                      throw new IllegalStateException("request " + i + " answered " + status);
                    }
                    lat.add(System.nanoTime() - t);
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    }
    return lat;
  }

  private static int post(int port, String pathAndQuery) throws IOException {
    HttpURLConnection c =
        (HttpURLConnection)
            URI.create("http://127.0.0.1:" + port + pathAndQuery).toURL().openConnection();
    c.setRequestMethod("POST");
    c.setReadTimeout(600_000);
    int status = c.getResponseCode();
    try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
      if (in != null) {
        in.transferTo(java.io.OutputStream.nullOutputStream());
      }
    }
    return status; // no disconnect(): the connection is kept alive and reused, as a proxy would
  }

  /** This process's user + system CPU time from {@code /proc/self/stat}, or −1 where absent. */
  private static long cpuNanos() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // fields 14 and 15 of stat(5) (utime, stime) are 11 and 12 after the command name
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
      return ticks * 10_000_000L; // USER_HZ is 100 on Linux
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
