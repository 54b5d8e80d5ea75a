package dev.rectok.cli;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.generate.DiTGenerator;
import dev.rectok.models.dit.DiTConfig;
import dev.rectok.models.dit.DiTwDDTHead;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.models.tokenizer.RecTokConfig;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.Torch;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.InferencePrecision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.function.IntConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code rectok bench tokenizer | dit}: forward-pass throughput of the full-size models with seeded
 * random weights, under inference mode. The last lines are machine-readable ({@code
 * images_per_second=}, {@code ms_per_forward=}, {@code cpu_ms_per_forward=}, {@code peak_rss_mb=},
 * and {@code peak_tensor_block_mb=} when the CPU block allocator is on): medians of the timed
 * iterations after one warm-up.
 */
@Command(
    name = "bench",
    description = "Benchmark the tokenizer or the DiT^DH forward pass.",
    subcommands = {
      BenchCommand.TokenizerBench.class,
      BenchCommand.DitBench.class,
      AllreduceBench.class, // issue 14

      /* issue 12 */ TeacherCommands.Bench.class,
      InceptionBench.class, /* issue 11 */

      // --- issue 13: precision benchmarks ---
      BenchPrecisionCommands.Gemm.class,
      BenchPrecisionCommands.Sample.class,
      BenchPrecisionCommands.Quality.class
    })
final class BenchCommand implements Runnable {
  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(
        new picocli.CommandLine(this), "choose 'tokenizer' or 'dit'");
  }

  /** Common options. */
  static final class Common {
    @Option(names = "--batch", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch = 1;

    @Option(names = "--iters", description = "timed iterations (default: ${DEFAULT-VALUE})")
    int iters = 5;

    @Option(
        names = "--warmup",
        description =
            "untimed iterations first (default: ${DEFAULT-VALUE}); the JIT keeps "
                + "compiling through the first few forwards, so steady-state comparisons use 3")
    int warmup = 1;

    @Option(names = "--threads", description = "LibTorch intra-op threads (default: all cores)")
    Integer threads;

    @Option(
        names = "--seed",
        description = "seed of the random weights and inputs (default: ${DEFAULT-VALUE})")
    long seed = 0;
  }

  /** CPU time of the last {@link #time} call's iterations, ms (all threads of the process). */
  static double[] lastCpuMs = new double[0];

  static double[] time(int warmup, int iters, IntConsumer body) {
    if (iters < 1 || warmup < 0) {
      throw new IllegalArgumentException(
          "--iters must be >= 1 and --warmup >= 0, got " + iters + " and " + warmup);
    }
    for (int i = 0; i < warmup; i++) {
      body.accept(i);
    }
    double[] ms = new double[iters];
    double[] cpu = new double[iters];
    for (int i = 0; i < iters; i++) {
      double c0 = processCpuMs();
      long t0 = System.nanoTime();
      body.accept(i);
      ms[i] = (System.nanoTime() - t0) / 1e6;
      cpu[i] = processCpuMs() - c0;
    }
    lastCpuMs = cpu;
    return ms;
  }

  /**
   * User + system CPU time of this process from {@code /proc/self/stat} (clock ticks of 10 ms), the
   * same source the PyTorch reference script reads; NaN where unavailable. On a shared, overloaded
   * machine it measures the work done rather than the share of the cores obtained.
   */
  static double processCpuMs() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10.0; // utime, stime (fields 14, 15)
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  /** Peak resident memory of this process (VmHWM). */
  static double peakRssMb() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("\\D+", "")) / 1024.0;
      }
    }
    return -1;
  }

  static void report(String what, int batch, double[] ms) throws IOException {
    double med = median(ms);
    System.out.printf(
        "%s: %s ms per forward (median of %d)%n",
        what,
        Arrays.toString(Arrays.stream(ms).map(x -> Math.round(x * 10) / 10.0).toArray()),
        ms.length);
    // Before the three historical last lines, which scripts and tests read by position.
    if (lastCpuMs.length == ms.length) {
      System.out.printf("cpu_ms_per_forward=%.2f%n", median(lastCpuMs));
    }
    System.out.printf("images_per_second=%.4f%n", batch / (med / 1000.0));
    System.out.printf("ms_per_forward=%.2f%n", med);
    System.out.printf("peak_rss_mb=%.0f%n", peakRssMb());
    // the tensors' share of it (issue 13: the CPU block allocator counts its blocks)
    Torch.cpuAllocatorStats()
        .ifPresent(a -> System.out.printf("peak_tensor_block_mb=%.0f%n", a.peak() / 1048576.0));
  }

  @Command(
      name = "tokenizer",
      description = "Tokenizer encode/decode throughput (256x256 images for rectok_BB).")
  static final class TokenizerBench implements Callable<Integer> {
    @Option(names = "--preset", description = "tokenizer preset (default: ${DEFAULT-VALUE})")
    String preset = "rectok_BB";

    @Option(names = "--mode", description = "encode, decode or both (default: ${DEFAULT-VALUE})")
    String mode = "both";

    @Mixin Common common;

    @Mixin DeviceOption device;

    // --- issue 13: precision ---
    @Mixin PrecisionOption precision;

    @Override
    public Integer call() throws IOException {
      if (!mode.equals("encode") && !mode.equals("decode") && !mode.equals("both")) {
        throw new IllegalArgumentException(
            "--mode must be encode, decode or both, not '" + mode + "'");
      }
      if (common.threads != null) {
        Torch.setNumThreads(common.threads);
      }
      Torch.manualSeed(common.seed);
      Device dev = device.get();
      try (RecTok tok = new RecTok(RecTokConfig.preset(preset));
          TorchGenerator g = TorchGenerator.cpu(common.seed)) {
        tok.initWeights(g);
        if (dev.isCuda()) {
          tok.to(null, dev);
        }
        tok.eval();
        DType compute = precision.resolve(dev);
        if (compute != DType.FLOAT32) {
          InferencePrecision.prepareReleasing(
              tok, compute, path -> true); // as RecTokTokenizer.open does
        }
        int size = tok.config().imgSize();
        int grid = tok.config().gridSize();
        int c = tok.config().tokenChannels();
        try (Tensor x =
                Tensor.randn(new long[] {common.batch, 3, size, size}, g, DType.FLOAT32, dev);
            Tensor z =
                Tensor.randn(
                    new long[] {common.batch, (long) grid * grid, c}, g, DType.FLOAT32, dev)) {
          double[] ms =
              time(
                  common.warmup,
                  common.iters,
                  i -> {
                    try (Scope s = Scope.open();
                        GradMode m = GradMode.inferenceMode();
                        var p = InferencePrecision.use(compute)) {
                      switch (mode) {
                        case "encode" -> tok.encode(x, false, null).close();
                        case "decode" -> tok.decoder(z);
                        case "both" -> tok.reconstruct(x);
                        default ->
                            throw new IllegalArgumentException(
                                "--mode must be encode, decode or both");
                      }
                      if (dev.isCuda()) {
                        Torch.cudaSynchronize(Math.max(0, dev.index()));
                      }
                    }
                  });
          System.out.printf(
              "%s %s, batch %d, %dx%d, %d threads, %s, %s%n",
              preset, mode, common.batch, size, size, Torch.numThreads(), dev, compute.torchName());
          report("tokenizer " + mode, common.batch, ms);
        }
      }
      return 0;
    }
  }

  @Command(
      name = "dit",
      description = "DiT^DH forward throughput (128x16x16 latents for the released presets).")
  static final class DitBench implements Callable<Integer> {
    @Option(
        names = "--preset",
        description = "DiTDDT_s, DiTDDT_b, DiTDDT_l or DiTDDT_xl (default: ${DEFAULT-VALUE})")
    String preset = "DiTDDT_s";

    @Mixin Common common;

    @Mixin DeviceOption device;

    // --- issue 13: precision ---
    @Mixin PrecisionOption precision;

    @Override
    public Integer call() throws IOException {
      if (common.threads != null) {
        Torch.setNumThreads(common.threads);
      }
      Device dev = device.get();
      DType compute = precision.resolve(dev);
      try (TorchGenerator g = TorchGenerator.cpu(common.seed);
          DiTwDDTHead net = new DiTwDDTHead(DiTConfig.preset(preset), g)) {
        if (dev.isCuda()) {
          net.to(null, dev);
        }
        net.eval();
        if (compute != DType.FLOAT32) {
          InferencePrecision.prepareReleasing(
              net, compute, DiTGenerator.BF16_LINEARS); // as DiTGenerator.open does
        }
        DiTConfig cfg = net.config();
        long c = cfg.tokenChannels();
        long n = cfg.inputSize();
        try (Tensor x = Tensor.randn(new long[] {common.batch, c, n, n}, g, DType.FLOAT32, dev);
            Tensor t = Tensor.rand(new long[] {common.batch}, g, DType.FLOAT32, dev);
            Tensor y =
                Tensor.randint(
                    0, cfg.numClasses(), new long[] {common.batch}, g, DType.INT64, dev)) {
          double[] ms =
              time(
                  common.warmup,
                  common.iters,
                  i -> {
                    try (Scope s = Scope.open();
                        GradMode m = GradMode.inferenceMode();
                        var p = InferencePrecision.use(compute)) {
                      net.forward(x, t, y);
                      if (dev.isCuda()) {
                        Torch.cudaSynchronize(Math.max(0, dev.index()));
                      }
                    }
                  });
          System.out.printf(
              "%s, batch %d, latent %dx%dx%d, %d threads, %s, %s%n",
              preset, common.batch, c, n, n, Torch.numThreads(), dev, compute.torchName());
          report("dit forward", common.batch, ms);
        }
      }
      return 0;
    }
  }
}
