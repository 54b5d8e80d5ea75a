package dev.rectok.torch.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Gloo collectives against plain Java sums, products, minima and maxima: three ranks, each on its
 * own thread with its own store client and process group (as c10d's own C++ tests do), over a TCP
 * store, on random shapes, dtypes and values. Values are small integers, so every dtype holds every
 * partial result exactly and the comparison is exact.
 */
class CollectivesPropertyTest {
  static final int WORLD = 3;
  static final Duration TIMEOUT = Duration.ofSeconds(60);
  static final ExecutorService[] RANKS = new ExecutorService[WORLD];
  static final Store[] STORES = new Store[WORLD];
  static final ProcessGroup[] GROUPS = new ProcessGroup[WORLD];

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Runs {@code body(rank)} on every rank's thread at once; returns the results by rank. */
  static <T> List<T> onAllRanks(IntFunction<T> body) throws Exception {
    List<Future<T>> fs = new ArrayList<>();
    for (int r = 0; r < WORLD; r++) {
      int rank = r;
      fs.add(RANKS[r].submit(() -> body.apply(rank)));
    }
    List<T> out = new ArrayList<>();
    for (Future<T> f : fs) {
      out.add(f.get(120, TimeUnit.SECONDS));
    }
    return out;
  }

  @BeforeContainer
  static void connect() throws Exception {
    assertThat(Store.available())
        .as("the shim must be built with c10d/Gloo (libgloo-dev)")
        .isTrue();
    for (int r = 0; r < WORLD; r++) {
      RANKS[r] = Executors.newSingleThreadExecutor();
    }
    int port = freePort();
    onAllRanks(
        r -> {
          STORES[r] = Store.tcp("127.0.0.1", port, r == 0, WORLD, TIMEOUT);
          try (Store prefixed = STORES[r].prefix("default_pg")) {
            GROUPS[r] =
                ProcessGroup.gloo(
                    prefixed,
                    r,
                    WORLD,
                    new ProcessGroup.GlooOptions(TIMEOUT, 2, null, "127.0.0.1"));
          }
          return null;
        });
  }

  @AfterContainer
  static void disconnect() throws Exception {
    onAllRanks(
        r -> {
          GROUPS[r].close();
          return null;
        });
    onAllRanks(
        r -> {
          if (r != 0) {
            STORES[r].close();
          }
          return null;
        });
    STORES[0].close();
    for (ExecutorService e : RANKS) {
      e.shutdownNow();
    }
  }

  @Provide
  Arbitrary<long[]> shapes() {
    return Arbitraries.longs().between(1, 5).array(long[].class).ofMinSize(1).ofMaxSize(3);
  }

  @Provide
  Arbitrary<DType> dtypes() {
    return Arbitraries.of(
        DType.FLOAT32,
        DType.FLOAT64,
        DType.FLOAT16,
        DType.INT32,
        DType.INT64,
        DType.INT8,
        DType.UINT8);
  }

  static long numel(long[] shape) {
    long n = 1;
    for (long s : shape) {
      n *= s;
    }
    return n;
  }

  /**
   * Rank r's element i: in 0..3 (unsigned) or −3..3, so products over 3 ranks stay exact
   * everywhere.
   */
  static long value(long seed, int rank, long i, DType dtype) {
    long h = seed * 0x9E3779B97F4A7C15L + rank * 0xBF58476D1CE4E5B9L + i * 0x94D049BB133111EBL;
    h ^= h >>> 29;
    long v = Math.floorMod(h, 7) - 3;
    return dtype == DType.UINT8 ? Math.abs(v) : v;
  }

  static Tensor rankTensor(long seed, int rank, long[] shape, DType dtype) {
    long n = numel(shape);
    long[] v = new long[(int) n];
    for (int i = 0; i < n; i++) {
      v[i] = value(seed, rank, i, dtype);
    }
    return Tensor.of(v, shape).to(dtype);
  }

  /** The values as doubles, −0 read as 0 (a product's sign of zero is not what is tested). */
  static double[] values(Tensor t) {
    double[] v = t.to(DType.FLOAT64).contiguous().toDoubleArray();
    for (int i = 0; i < v.length; i++) {
      v[i] += 0.0;
    }
    return v;
  }

  @Property(tries = 60)
  void allreduceEqualsTheJavaReduction(
      @ForAll("shapes") long[] shape,
      @ForAll("dtypes") DType dtype,
      @ForAll ReduceOp op,
      @ForAll long seed)
      throws Exception {
    long n = numel(shape);
    double[] expected = new double[(int) n];
    for (int i = 0; i < n; i++) {
      double acc = value(seed, 0, i, dtype);
      for (int r = 1; r < WORLD; r++) {
        double v = value(seed, r, i, dtype);
        acc =
            switch (op) {
              case SUM -> acc + v;
              case PRODUCT -> acc * v;
              case MIN -> Math.min(acc, v);
              case MAX -> Math.max(acc, v);
            };
      }
      expected[i] = acc + 0.0;
    }
    List<double[]> got =
        onAllRanks(
            r -> {
              try (Scope s = Scope.open()) {
                Tensor t = rankTensor(seed, r, shape, dtype);
                try (Work w = GROUPS[r].allreduce(t, op)) {
                  w.await();
                }
                assertThat(t.shape()).isEqualTo(shape);
                assertThat(t.dtype()).isEqualTo(dtype);
                return values(t);
              }
            });
    for (double[] g : got) {
      assertThat(g).containsExactly(expected);
    }
  }

  @Property(tries = 30)
  void coalescedAllreduceSumsEveryTensor(
      @ForAll("shapes") long[] a,
      @ForAll("shapes") long[] b,
      @ForAll("dtypes") DType dtype,
      @ForAll long seed)
      throws Exception {
    List<List<double[]>> got =
        onAllRanks(
            r -> {
              try (Scope s = Scope.open()) {
                Tensor x = rankTensor(seed, r, a, dtype);
                Tensor y = rankTensor(seed + 1, r, b, dtype);
                try (Work w = GROUPS[r].allreduceCoalesced(List.of(x, y), ReduceOp.SUM)) {
                  w.await();
                }
                return List.of(values(x), values(y));
              }
            });
    long[][] shapes = {a, b};
    for (int k = 0; k < 2; k++) {
      long n = numel(shapes[k]);
      double[] expected = new double[(int) n];
      for (int i = 0; i < n; i++) {
        for (int r = 0; r < WORLD; r++) {
          expected[i] += value(seed + k, r, i, dtype);
        }
      }
      for (List<double[]> g : got) {
        assertThat(g.get(k)).containsExactly(expected);
      }
    }
  }

  @Property(tries = 30)
  void broadcastCopiesTheRootsTensor(
      @ForAll("shapes") long[] shape,
      @ForAll("dtypes") DType dtype,
      @ForAll long seed,
      @ForAll("roots") int root)
      throws Exception {
    List<double[]> got =
        onAllRanks(
            r -> {
              try (Scope s = Scope.open()) {
                Tensor t = rankTensor(seed, r, shape, dtype);
                try (Work w = GROUPS[r].broadcast(t, root)) {
                  w.await();
                }
                return values(t);
              }
            });
    double[] expected;
    try (Scope s = Scope.open()) {
      expected = values(rankTensor(seed, root, shape, dtype));
    }
    for (double[] g : got) {
      assertThat(g).containsExactly(expected);
    }
  }

  @Provide
  Arbitrary<Integer> roots() {
    return Arbitraries.integers().between(0, WORLD - 1);
  }

  @Property(tries = 30)
  void allgatherCollectsEveryRanksTensorInRankOrder(
      @ForAll("shapes") long[] shape, @ForAll("dtypes") DType dtype, @ForAll long seed)
      throws Exception {
    List<List<double[]>> got =
        onAllRanks(
            r -> {
              try (Scope s = Scope.open()) {
                Tensor in = rankTensor(seed, r, shape, dtype);
                List<Tensor> outs = new ArrayList<>();
                for (int k = 0; k < WORLD; k++) {
                  outs.add(Tensor.zeros(shape, dtype, Device.CPU));
                }
                try (Work w = GROUPS[r].allgather(in, outs)) {
                  w.await();
                }
                return outs.stream().map(CollectivesPropertyTest::values).toList();
              }
            });
    for (List<double[]> g : got) {
      for (int k = 0; k < WORLD; k++) {
        try (Scope s = Scope.open()) {
          assertThat(g.get(k)).containsExactly(values(rankTensor(seed, k, shape, dtype)));
        }
      }
    }
  }

  @Example
  void aStridedTensorIsRefusedNotReducedIntoATemporary() throws Exception {
    List<String> errors =
        onAllRanks(
            r -> {
              try (Scope s = Scope.open()) {
                Tensor t = Tensor.zeros(3, 4).transpose(0, 1);
                try {
                  GROUPS[r].allreduce(t, ReduceOp.SUM).close();
                  return "no error";
                } catch (DistributedException e) {
                  return e.getMessage();
                }
              }
            });
    assertThat(errors).allMatch(m -> m.contains("contiguous"));
    // the group still works afterwards (nothing was issued)
    List<double[]> sums =
        onAllRanks(
            r -> {
              try (Scope s = Scope.open()) {
                Tensor t = Tensor.of(new float[] {r + 1f}, 1);
                try (Work w = GROUPS[r].allreduce(t, ReduceOp.SUM)) {
                  w.await();
                }
                return values(t);
              }
            });
    assertThat(sums).allMatch(v -> v[0] == 6.0);
  }

  @Example
  void aRankThatNeverJoinsTheCollectiveFailsTheOthersWithinTheTimeout() throws Exception {
    Path tmp = Files.createTempDirectory("rectok-dist");
    // A separate world of 3 over a file store with a 2 s timeout; rank 2 skips the allreduce.
    Path file = tmp.resolve("store");
    Duration timeout = Duration.ofSeconds(2);
    ProcessGroup[] pgs = new ProcessGroup[WORLD];
    Store[] stores = new Store[WORLD];
    onAllRanks(
        r -> {
          stores[r] = Store.file(file, WORLD, Duration.ofSeconds(30));
          pgs[r] =
              ProcessGroup.gloo(
                  stores[r], r, WORLD, new ProcessGroup.GlooOptions(timeout, 2, null, "127.0.0.1"));
          return null;
        });
    long start = System.nanoTime();
    List<String> outcome =
        onAllRanks(
            r -> {
              if (r == 2) {
                return "skipped";
              }
              try (Scope s = Scope.open();
                  Work w = pgs[r].allreduce(Tensor.ones(4), ReduceOp.SUM)) {
                w.await(Duration.ofSeconds(30));
                return "completed";
              } catch (DistributedException e) {
                return e.getMessage();
              }
            });
    double seconds = (System.nanoTime() - start) / 1e9;
    assertThat(outcome.get(0)).contains("allreduce failed");
    assertThat(outcome.get(1)).contains("allreduce failed");
    assertThat(seconds).as("failed within the timeout, not after the 30 s wait").isLessThan(20);
    onAllRanks(
        r -> {
          pgs[r].close();
          stores[r].close();
          return null;
        });
    Files.deleteIfExists(file);
    Files.deleteIfExists(tmp);
  }

  @Example
  void badArgumentsAreRefusedWithMessages() {
    assertThatThrownBy(
            () -> ProcessGroup.gloo(STORES[0], 3, 3, ProcessGroup.GlooOptions.of(TIMEOUT)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("rank must be in 0..2");
    assertThatThrownBy(() -> Store.tcp("127.0.0.1", 70000, true, 2, TIMEOUT))
        .hasMessageContaining("port must be in 0..65535");
    assertThatThrownBy(() -> GROUPS[0].broadcast(Tensor.ones(1), 5))
        .isInstanceOf(DistributedException.class)
        .hasMessageContaining("root must be in 0..2");
  }
}
