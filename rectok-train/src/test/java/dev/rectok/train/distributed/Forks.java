package dev.rectok.train.distributed;

import dev.rectok.torch.nn.Module;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Test support: child JVMs of this test run (the torchrun environment in theirs), parameter dumps.
 */
public final class Forks {
  private Forks() {}

  /**
   * A data-parallel check's body: train {@code steps} steps of {@code localBatch} per rank, rank 0
   * dumps to {@code out}.
   */
  @FunctionalInterface
  public interface Body {
    /** Runs it in this process's {@link DataParallel} setting. */
    void run(Path out, int steps, int localBatch) throws Exception;
  }

  /**
   * A child rank's main: joins from the torchrun environment, one thread, runs {@code body} (args:
   * out steps localBatch).
   */
  public static void childMain(String[] args, Body body) throws Exception {
    // one thread unless threadFloor asks for more (OMP_NUM_THREADS, set by startRank)
    dev.rectok.torch.Torch.setNumThreads(
        Integer.parseInt(System.getenv().getOrDefault("OMP_NUM_THREADS", "1")));
    try (dev.rectok.torch.distributed.DistributedContext ctx =
        dev.rectok.torch.distributed.DistributedContext.fromEnvironment(
            System.getenv(), java.time.Duration.ofSeconds(60))) {
      DataParallel.install(ctx);
      body.run(Path.of(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]));
      ctx.barrier();
    }
  }

  /**
   * Runs {@code child} as 2 ranks with {@code localBatch} each, then {@code body} here as one
   * process with {@code 2 × localBatch} (one thread), and compares what rank 0 and this process
   * dumped: {first-step gradients normwise, largest weight difference, 1 if bit-identical}.
   */
  public static double[] twoProcessesAgainstOne(Class<?> child, int steps, int localBatch, Path tmp)
      throws Exception {
    Path dumped = tmp.resolve("rank0.bin");
    int port = freePort();
    Process[] ranks = new Process[2];
    for (int r = 0; r < 2; r++) {
      ranks[r] =
          startRank(
              child,
              List.of(dumped.toString(), "" + steps, "" + localBatch),
              r,
              2,
              port,
              tmp.resolve("rank" + r + ".log"));
    }
    for (int r = 0; r < 2; r++) {
      if (!ranks[r].waitFor(240, java.util.concurrent.TimeUnit.SECONDS)
          || ranks[r].exitValue() != 0) {
        ranks[r].destroyForcibly();
        throw new AssertionError(
            "rank " + r + " failed:\n" + Files.readString(tmp.resolve("rank" + r + ".log")));
      }
    }
    // the one-process reference is a fresh child JVM too, with the ranks' environment
    // (OMP_NUM_THREADS=1): a test JVM's BLAS thread pool and earlier work change float32 rounding
    Path single = tmp.resolve("single.bin");
    Process alone =
        startRank(
            child,
            List.of(single.toString(), "" + steps, "" + 2 * localBatch),
            0,
            1,
            port,
            tmp.resolve("single.log"));
    if (!alone.waitFor(240, java.util.concurrent.TimeUnit.SECONDS) || alone.exitValue() != 0) {
      alone.destroyForcibly();
      throw new AssertionError(
          "the one-process run failed:\n" + Files.readString(tmp.resolve("single.log")));
    }
    Map<String, float[]> two;
    Map<String, float[]> one;
    Map<String, float[]> twoGrad;
    Map<String, float[]> oneGrad;
    try (InputStream a = Files.newInputStream(dumped);
        InputStream b = Files.newInputStream(single);
        InputStream ag = Files.newInputStream(Path.of(dumped + ".grad"));
        InputStream bg = Files.newInputStream(Path.of(single + ".grad"))) {
      two = read(a);
      one = read(b);
      twoGrad = read(ag);
      oneGrad = read(bg);
    }
    if (oneGrad.isEmpty() || oneGrad.size() != twoGrad.size()) {
      throw new AssertionError(
          "gradients missing: " + oneGrad.keySet() + " vs " + twoGrad.keySet());
    }
    System.out.println("first-step gradients, 2 processes vs 1, per parameter:");
    System.out.print(perTensor(twoGrad, oneGrad));
    return new double[] {
      normwise(twoGrad, oneGrad),
      maxAbs(two, one),
      compare(two, one)[1],
      compare(twoGrad, oneGrad)[1]
    };
  }

  /**
   * The floor the data-parallel difference is judged against: the first-step gradients of the
   * one-process run that {@link #twoProcessesAgainstOne} left in {@code tmp}, repeated with two
   * threads instead of one, compared normwise with it. A one-thread repeat is bit-identical; a
   * second thread changes the order of LibTorch's float32 sums, as a second rank does.
   */
  public static double threadFloor(Class<?> child, int steps, int globalBatch, Path tmp)
      throws Exception {
    Path two = tmp.resolve("single-2threads.bin");
    ProcessBuilder pb =
        new ProcessBuilder(
                javaCommand(child, List.of(two.toString(), "" + steps, "" + globalBatch)))
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("single-2threads.log").toFile());
    Map<String, String> env = pb.environment();
    env.put("RANK", "0");
    env.put("WORLD_SIZE", "1");
    env.put("LOCAL_RANK", "0");
    env.put("LOCAL_WORLD_SIZE", "1");
    env.put("MASTER_ADDR", "127.0.0.1");
    env.put("MASTER_PORT", Integer.toString(freePort()));
    env.put("OMP_NUM_THREADS", "2");
    Process p = pb.start();
    if (!p.waitFor(240, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new AssertionError(
          "the two-thread run failed:\n" + Files.readString(tmp.resolve("single-2threads.log")));
    }
    try (InputStream a = Files.newInputStream(Path.of(two + ".grad"));
        InputStream b = Files.newInputStream(tmp.resolve("single.bin.grad"))) {
      return normwise(read(a), read(b));
    }
  }

  /** A port free right now on the loopback interface. */
  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /**
   * The java command running {@code main} with this JVM's class and module paths (1 intra-op
   * thread).
   */
  public static List<String> javaCommand(Class<?> main, List<String> args) {
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
                "-Xmx384m",
                "--enable-native-access=ALL-UNNAMED",
                "-Drectok.native.lib=" + System.getProperty("rectok.native.lib"),
                "-cp",
                String.join(File.pathSeparator, cp),
                main.getName()));
    cmd.addAll(args);
    return cmd;
  }

  /**
   * Starts rank {@code rank} of {@code world} with torchrun's variables, output into {@code log}.
   */
  public static Process startRank(
      Class<?> main, List<String> args, int rank, int world, int port, Path log)
      throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder(javaCommand(main, args))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    env.put("RANK", Integer.toString(rank));
    env.put("WORLD_SIZE", Integer.toString(world));
    env.put("LOCAL_RANK", Integer.toString(rank));
    env.put("LOCAL_WORLD_SIZE", Integer.toString(world));
    env.put("MASTER_ADDR", "127.0.0.1");
    env.put("MASTER_PORT", Integer.toString(port));
    env.put("OMP_NUM_THREADS", "1");
    return pb.start();
  }

  /** Writes every parameter of {@code modules} (prefixed by their index) as raw float bits. */
  public static void dump(List<? extends Module> modules, OutputStream out) throws IOException {
    write(collect(modules), out);
  }

  /** Every parameter of {@code modules} by "index/name". */
  public static Map<String, float[]> collect(List<? extends Module> modules) {
    Map<String, float[]> all = new LinkedHashMap<>();
    for (int i = 0; i < modules.size(); i++) {
      int k = i;
      modules
          .get(i)
          .namedParameters()
          .forEach(
              (n, p) ->
                  all.put(
                      k + "/" + n,
                      p.data().to(dev.rectok.api.DType.FLOAT32).contiguous().toFloatArray()));
    }
    return all;
  }

  /**
   * Every parameter's gradient of {@code modules} by "index/name" (parameters without one are left
   * out).
   */
  public static Map<String, float[]> collectGrads(List<? extends Module> modules) {
    Map<String, float[]> all = new LinkedHashMap<>();
    for (int i = 0; i < modules.size(); i++) {
      int k = i;
      modules
          .get(i)
          .namedParameters()
          .forEach(
              (n, p) -> {
                try (dev.rectok.torch.Scope s = dev.rectok.torch.Scope.open()) {
                  dev.rectok.torch.Tensor g = p.grad();
                  if (g != null) {
                    all.put(
                        k + "/" + n,
                        g.to(dev.rectok.api.DType.FLOAT32).contiguous().toFloatArray());
                  }
                }
              });
    }
    return all;
  }

  /** Writes a map of float arrays (as {@link #collect} returns) in {@link #dump}'s format. */
  public static void write(Map<String, float[]> all, OutputStream out) throws IOException {
    DataOutputStream d = new DataOutputStream(out);
    d.writeInt(all.size());
    for (var e : all.entrySet()) {
      d.writeUTF(e.getKey());
      d.writeInt(e.getValue().length);
      for (float f : e.getValue()) {
        d.writeFloat(f);
      }
    }
    d.flush();
  }

  /**
   * The largest normwise relative difference over the tensors: max over tensors of {@code max|a −
   * b| / max|b|}.
   */
  public static double normwise(Map<String, float[]> a, Map<String, float[]> b) {
    if (!a.keySet().equals(b.keySet())) {
      throw new AssertionError("different tensors: " + a.keySet() + " vs " + b.keySet());
    }
    double worst = 0;
    for (var e : a.entrySet()) {
      float[] x = e.getValue();
      float[] y = b.get(e.getKey());
      double diff = 0;
      double scale = 0;
      for (int i = 0; i < x.length; i++) {
        diff = Math.max(diff, Math.abs(x[i] - y[i]));
        scale = Math.max(scale, Math.abs(y[i]));
      }
      worst = Math.max(worst, scale == 0 ? diff : diff / scale);
    }
    return worst;
  }

  /** The largest |a − b| over all tensors. */
  public static double maxAbs(Map<String, float[]> a, Map<String, float[]> b) {
    double worst = 0;
    for (var e : a.entrySet()) {
      float[] x = e.getValue();
      float[] y = b.get(e.getKey());
      for (int i = 0; i < x.length; i++) {
        worst = Math.max(worst, Math.abs(x[i] - y[i]));
      }
    }
    return worst;
  }

  /** Reads what {@link #dump} wrote. */
  public static Map<String, float[]> read(InputStream in) throws IOException {
    DataInputStream d = new DataInputStream(in);
    int n = d.readInt();
    Map<String, float[]> all = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      String name = d.readUTF();
      float[] v = new float[d.readInt()];
      for (int j = 0; j < v.length; j++) {
        v[j] = d.readFloat();
      }
      all.put(name, v);
    }
    return all;
  }

  /**
   * One line per tensor: the normwise relative difference {@code max|a − b| / max|b|}, the number
   * of elements that differ, and the size; worst first.
   */
  public static String perTensor(Map<String, float[]> a, Map<String, float[]> b) {
    List<Object[]> rows = new ArrayList<>();
    for (var e : a.entrySet()) {
      float[] x = e.getValue();
      float[] y = b.get(e.getKey());
      double diff = 0;
      double scale = 0;
      int differ = 0;
      for (int i = 0; i < x.length; i++) {
        diff = Math.max(diff, Math.abs(x[i] - y[i]));
        scale = Math.max(scale, Math.abs(y[i]));
        differ += Float.floatToIntBits(x[i]) != Float.floatToIntBits(y[i]) ? 1 : 0;
      }
      rows.add(new Object[] {e.getKey(), scale == 0 ? diff : diff / scale, differ, x.length});
    }
    rows.sort((p, q) -> Double.compare((double) q[1], (double) p[1]));
    StringBuilder sb = new StringBuilder();
    for (Object[] r : rows) {
      sb.append(String.format("  %-60s %.3g  %d/%d differ%n", r));
    }
    return sb.toString();
  }

  /** Where the largest relative difference is: "name[i] a vs b". */
  public static String worst(Map<String, float[]> a, Map<String, float[]> b) {
    String where = "";
    double worst = -1;
    for (var e : a.entrySet()) {
      float[] x = e.getValue();
      float[] y = b.get(e.getKey());
      for (int i = 0; i < x.length; i++) {
        double d = Math.abs(x[i] - y[i]) / Math.max(Math.abs(y[i]), 1e-3);
        if (d > worst) {
          worst = d;
          where = e.getKey() + "[" + i + "] " + x[i] + " vs " + y[i];
        }
      }
    }
    return where;
  }

  /**
   * The largest |a − b| / max(|b|, 1e-3) over all parameters, and whether all are bit-identical.
   */
  public static double[] compare(Map<String, float[]> a, Map<String, float[]> b) {
    if (!a.keySet().equals(b.keySet())) {
      throw new AssertionError("different parameters: " + a.keySet() + " vs " + b.keySet());
    }
    double worst = 0;
    boolean identical = true;
    for (var e : a.entrySet()) {
      float[] x = e.getValue();
      float[] y = b.get(e.getKey());
      for (int i = 0; i < x.length; i++) {
        identical &= Float.floatToIntBits(x[i]) == Float.floatToIntBits(y[i]);
        worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(Math.abs(y[i]), 1e-3));
      }
    }
    return new double[] {worst, identical ? 1 : 0};
  }
}
