package dev.rectok.cli;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.api.GenerateOptions;
import dev.rectok.api.Precision;
import dev.rectok.api.Progress;
import dev.rectok.generate.DiTGenerator;
import dev.rectok.generate.transport.Guidance;
import dev.rectok.generate.transport.Sampler;
import dev.rectok.generate.transport.VelocityModel;
import dev.rectok.models.RecTokTokenizer;
import dev.rectok.models.dit.DiTConfig;
import dev.rectok.models.dit.DiTwDDTHead;
import dev.rectok.torch.F;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.Torch;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.InferencePrecision;
import dev.rectok.train.data.FashionMnist;
import dev.rectok.train.recipe.DemoEvaluation;
import dev.rectok.train.recipe.FashionMnistRecipe;
import dev.rectok.train.teacher.VitTeacher;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The benchmarks of issue 13: {@code rectok bench gemm} (the fp32 and bf16 GEMM ceilings on the
 * DiT^DH and tokenizer shapes, measured side by side), {@code rectok bench sample} (a full sampling
 * run, its per-step time against the forward time) and {@code rectok bench quality} (the demo's
 * metrics in fp32 and bf16, side by side). Not thread-safe; each command runs on the CLI's thread.
 */
final class BenchPrecisionCommands {
  private BenchPrecisionCommands() {}

  /** {@code rectok bench gemm}: Linear GEMM throughput, fp32 (OpenBLAS) against bf16 (oneDNN). */
  @Command(
      name = "gemm",
      description = "fp32 vs bf16 Linear GEMM GFLOP/s on the models' shapes, alternated.")
  static final class Gemm implements Callable<Integer> {
    @Option(
        names = "--rounds",
        description = "alternated rounds per shape (default: ${DEFAULT-VALUE})")
    int rounds = 3;

    @Option(names = "--threads", description = "LibTorch intra-op threads (default: all cores)")
    Integer threads;

    @Override
    public Integer call() {
      if (rounds < 1) {
        throw new picocli.CommandLine.ParameterException(
            new picocli.CommandLine(this), "--rounds must be at least 1, got " + rounds);
      }
      if (threads != null) {
        Torch.setNumThreads(threads);
      }
      // (M tokens, K in, N out): DiT^DH-XL qkv / fc1 / fc2 at batch 1, the tokenizer's qkv at batch
      // 4 / 2
      long[][] shapes = {
        {256, 1152, 1152}, {256, 1152, 4608}, {256, 4608, 1152}, {512, 768, 768}, {1024, 768, 3072}
      };
      System.out.printf(
          "%-18s %12s %12s %16s %8s%n",
          "M x K x N", "fp32 GFLOP/s", "bf16 GFLOP/s", "bf16+casts GF/s", "bf16/fp32");
      try (TorchGenerator g = TorchGenerator.cpu(0);
          GradMode m = GradMode.inferenceMode()) {
        for (long[] s : shapes) {
          try (Scope scope = Scope.open()) {
            Tensor x = Tensor.randn(g, s[0], s[1]);
            Tensor w = Tensor.randn(g, s[2], s[1]).mul(0.02);
            Tensor b = Tensor.randn(g, s[2]);
            Tensor x16 = x.to(DType.BFLOAT16);
            Tensor w16 = w.to(DType.BFLOAT16);
            Tensor b16 = b.to(DType.BFLOAT16);
            double flop = 2.0 * s[0] * s[1] * s[2];
            double[] f32 = new double[rounds];
            double[] b16t = new double[rounds];
            double[] cast = new double[rounds];
            for (int r = 0; r < rounds; r++) {
              // alternate the order so load drifts hit both sides alike
              if (r % 2 == 0) {
                f32[r] = gflops(flop, () -> F.linear(x, w, b));
                b16t[r] = gflops(flop, () -> F.linear(x16, w16, b16));
              } else {
                b16t[r] = gflops(flop, () -> F.linear(x16, w16, b16));
                f32[r] = gflops(flop, () -> F.linear(x, w, b));
              }
              cast[r] =
                  gflops(flop, () -> F.linear(x.to(DType.BFLOAT16), w16, b16).to(DType.FLOAT32));
            }
            double a = BenchCommand.median(f32);
            double c = BenchCommand.median(b16t);
            System.out.printf(
                "%-18s %12.1f %12.1f %16.1f %8.2f%n",
                s[0] + "x" + s[1] + "x" + s[2], a, c, BenchCommand.median(cast), c / a);
          }
        }
      }
      System.out.printf(
          "threads %d; medians of %d alternated rounds of >= 0.3 s each%n",
          Torch.numThreads(), rounds);
      return 0;
    }

    private static double gflops(double flop, java.util.function.Supplier<Tensor> op) {
      for (int i = 0; i < 2; i++) {
        try (Scope s = Scope.open()) {
          op.get();
        }
      }
      int n = 0;
      long t0 = System.nanoTime();
      long t;
      do {
        try (Scope s = Scope.open()) {
          op.get();
        }
        n++;
        t = System.nanoTime() - t0;
      } while (t < 300_000_000L);
      return flop * n / t;
    }
  }

  /**
   * {@code rectok bench sample}: one sampling run of DiT^DH (seeded random weights) without
   * guidance, with CFG or with AutoGuidance, its wall time, and the time of one forward of each
   * network at the batch the sampler gives it (2B for CFG), so that {@code steps x forwards} can be
   * compared with the sampling time. {@code --profile} adds a run whose networks are timed call by
   * call: the step time split into the forwards and everything else (guidance arithmetic, the
   * update, buffer copies, the Java loop).
   */
  @Command(
      name = "sample",
      description =
          "Sampling run (DiT^DH, random weights; none, CFG or AutoGuidance): time vs steps x"
              + " forward.")
  static final class Sample implements Callable<Integer> {
    @Option(names = "--preset", description = "main network preset (default: ${DEFAULT-VALUE})")
    String preset = "DiTDDT_xl";

    @Option(
        names = "--guide-preset",
        description =
            "AutoGuidance network preset, or 'none' (no guide network) (default:"
                + " ${DEFAULT-VALUE})")
    String guidePreset = "DiTDDT_s";

    @Option(
        names = "--guidance",
        description =
            "none, cfg or autoguidance (default: autoguidance with a guide preset, else none)")
    String guidance;

    @Option(
        names = "--steps",
        description = "time-grid points, steps + 1 (default: ${DEFAULT-VALUE})")
    int gridPoints = 150;

    @Option(names = "--batch", description = "images per sampling run (default: ${DEFAULT-VALUE})")
    int batch = 1;

    @Option(names = "--iters", description = "timed sampling runs (default: ${DEFAULT-VALUE})")
    int runs = 1;

    @Option(
        names = "--warmup",
        description = "untimed 2-step runs first (JIT, allocator) (default: ${DEFAULT-VALUE})")
    int warmup = 1;

    @Option(names = "--threads", description = "LibTorch intra-op threads (default: all cores)")
    Integer threads;

    @Option(
        names = "--profile",
        description =
            "also run once with every network call timed, and print where a step's time goes")
    boolean profile;

    @Option(
        names = "--cuda-graphs",
        description =
            "replay each sampling step as a CUDA graph (CUDA builds of LibTorch 2.x, --device"
                + " cuda:N)")
    boolean cudaGraphs;

    @Mixin DeviceOption device;

    @Mixin PrecisionOption precision;

    @Override
    public Integer call() throws Exception {
      if (cudaGraphs) {
        String why = dev.rectok.torch.CudaGraph.unsupportedReason(device.get());
        if (why != null) {
          throw new picocli.CommandLine.ParameterException(
              new picocli.CommandLine(this),
              "--cuda-graphs: " + why + " (use --device cuda:N with a CUDA build of LibTorch 2.x)");
        }
      }
      if (gridPoints < 2 || batch < 1 || runs < 1 || warmup < 0) {
        throw new picocli.CommandLine.ParameterException(
            new picocli.CommandLine(this),
            "--steps must be >= 2, --batch and --iters >= 1, --warmup >= 0");
      }
      boolean hasGuide = !guidePreset.equals("none");
      GenerateOptions.GuidanceKind kind =
          guidance == null
              ? (hasGuide
                  ? GenerateOptions.GuidanceKind.AUTOGUIDANCE
                  : GenerateOptions.GuidanceKind.NONE)
              : GenerateOptions.GuidanceKind.valueOf(guidance.toUpperCase(java.util.Locale.ROOT));
      if (kind == GenerateOptions.GuidanceKind.AUTOGUIDANCE && !hasGuide) {
        throw new picocli.CommandLine.ParameterException(
            new picocli.CommandLine(this),
            "--guidance autoguidance needs --guide-preset (e.g. DiTDDT_s), not 'none'");
      }
      boolean guided = kind == GenerateOptions.GuidanceKind.AUTOGUIDANCE;
      if (threads != null) {
        Torch.setNumThreads(threads);
      }
      Device dev = device.get();
      DType compute = precision.resolve(dev);
      try (TorchGenerator g = TorchGenerator.cpu(0);
          DiTGenerator gen =
              new DiTGenerator(
                  new DiTwDDTHead(DiTConfig.preset(preset), g),
                  guided ? new DiTwDDTHead(DiTConfig.preset(guidePreset), g) : null,
                  dev)) {
        long tp = System.nanoTime();
        if (compute != DType.FLOAT32) {
          gen.prepareBf16Only(compute); // as DiTGenerator.open does for bf16
        }
        double prepareMs = (System.nanoTime() - tp) / 1e6;
        gen.useCudaGraphs(cudaGraphs);
        long[] labels = new long[batch];
        for (int i = 0; i < batch; i++) {
          labels[i] = (i * 131L) % gen.numClasses();
        }
        double scale = kind == GenerateOptions.GuidanceKind.CFG ? 1.5 : 1.29;
        GenerateOptions o =
            GenerateOptions.builder()
                .gridPoints(gridPoints)
                .precision(precision.get())
                .guidance(kind, scale)
                .build();
        // forwards alone, at the batch the sampler gives each network: the floor of a step
        int netBatch = kind == GenerateOptions.GuidanceKind.CFG ? 2 * batch : batch;
        double[] fwd = forwardMs(gen, netBatch, compute, dev);
        // a short warm-up run (JIT, allocator), then the timed runs
        for (int i = 0; i < warmup; i++) {
          gen.sample(
              labels,
              1,
              GenerateOptions.builder()
                  .gridPoints(3)
                  .precision(precision.get())
                  .guidance(kind, scale)
                  .build(),
              Progress.NONE);
        }
        // With --profile the timed runs are the profiled ones (the same Sampler and guidance as
        // DiTGenerator.sample; the per-call clock reads cost nanoseconds against forwards of ms).
        StepProfile prof =
            profile ? new StepProfile(gen, kind, scale, o, labels, compute, dev) : null;
        double[] ms =
            BenchCommand.time(
                0,
                runs,
                r -> {
                  if (prof != null) {
                    prof.run(r);
                  } else {
                    gen.sample(labels, r, o, Progress.NONE);
                  }
                });
        double[] cpuMs = BenchCommand.lastCpuMs;
        double med = BenchCommand.median(ms);
        int steps = gridPoints - 1;
        double floor = steps * (fwd[0] + fwd[1]);
        System.out.printf(
            "%s, %s%s, batch %d, %d steps, %d threads, %s%s, GEMMs in %s (weights converted in"
                + " %.0f ms)%n",
            preset,
            kind.name().toLowerCase(java.util.Locale.ROOT),
            guided ? " (guide " + guidePreset + ")" : "",
            batch,
            steps,
            Torch.numThreads(),
            dev,
            cudaGraphs ? " with CUDA graphs" : "",
            compute.torchName(),
            prepareMs);
        System.out.printf(
            "forward ms at batch %d: main %.1f, guide %.1f; steps x forwards = %.0f ms%n",
            netBatch, fwd[0], fwd[1], floor);
        System.out.printf(
            "sampling ms per run: %s; median %.0f; per step %.1f; gap to steps x forwards %.1f%%%n",
            java.util.Arrays.toString(
                java.util.Arrays.stream(ms).map(x -> Math.round(x)).toArray()),
            med,
            med / steps,
            100 * (med - floor) / floor);
        if (prof != null) {
          prof.print(fwd);
        }
        System.out.printf("cpu_ms_per_run=%.0f%n", BenchCommand.median(cpuMs));
        System.out.printf("cpu_ms_per_forward=%.2f%n", BenchCommand.median(cpuMs));
        System.out.printf("images_per_second=%.4f%n", batch / (med / 1000.0));
        System.out.printf("ms_per_sample_run=%.1f%n", med);
        System.out.printf("peak_rss_mb=%.0f%n", BenchCommand.peakRssMb());
      }
      return 0;
    }

    /**
     * Median wall ms of 3 forwards (after one warm-up) of the main and the guide network (0 without
     * a guide) at batch {@code batch}, then the same two as process CPU ms.
     */
    private static double[] forwardMs(DiTGenerator gen, int batch, DType compute, Device dev) {
      double[] out = new double[4];
      try (TorchGenerator g = TorchGenerator.cpu(1);
          Scope s = Scope.open();
          GradMode m = GradMode.inferenceMode();
          var p = InferencePrecision.use(compute)) {
        int[] shape = gen.latentShape();
        Tensor x =
            Tensor.randn(new long[] {batch, shape[0], shape[1], shape[2]}, g, DType.FLOAT32, dev);
        Tensor t = Tensor.rand(new long[] {batch}, g, DType.FLOAT32, dev);
        Tensor y = Tensor.randint(0, gen.numClasses(), new long[] {batch}, g, DType.INT64, dev);
        DiTwDDTHead[] nets = {gen.network(), gen.guideNetwork()};
        for (int k = 0; k < 2; k++) {
          if (nets[k] == null) {
            continue;
          }
          DiTwDDTHead net = nets[k];
          double[] ms =
              BenchCommand.time(
                  1,
                  3,
                  i -> {
                    try (Scope inner = Scope.open()) {
                      net.forward(x, t, y);
                      sync(dev);
                    }
                  });
          out[k] = BenchCommand.median(ms);
          out[2 + k] = BenchCommand.median(BenchCommand.lastCpuMs);
        }
      }
      return out;
    }

    static void sync(Device dev) {
      if (dev.isCuda()) {
        Torch.cudaSynchronize(Math.max(0, dev.index()));
      }
    }
  }

  /**
   * {@code bench sample --profile}: the timed sampling runs, through the same {@link Sampler} and
   * guidance as {@link DiTGenerator#sample}, with each network call timed (on CUDA each call is
   * synchronised, so the split is exact there too, at the cost of the launch overlap), printed as a
   * per-step breakdown. Not thread-safe; one instance per run.
   */
  static final class StepProfile {
    private final DiTGenerator gen;
    private final GenerateOptions.GuidanceKind kind;
    private final double scale;
    private final GenerateOptions options;
    private final long[] labels;
    private final DType compute;
    private final Device dev;
    private final long[] nanos = new long[2];
    private final int[] calls = new int[2];

    StepProfile(
        DiTGenerator gen,
        GenerateOptions.GuidanceKind kind,
        double scale,
        GenerateOptions options,
        long[] labels,
        DType compute,
        Device dev) {
      this.gen = gen;
      this.kind = kind;
      this.scale = scale;
      this.options = options;
      this.labels = labels.clone();
      this.compute = compute;
      this.dev = dev;
    }

    private VelocityModel timed(DiTwDDTHead net, int slot) {
      return (x, t, y) -> {
        long t0 = System.nanoTime();
        Tensor v = net.forward(x, t, y);
        Sample.sync(dev);
        nanos[slot] += System.nanoTime() - t0;
        calls[slot]++;
        return v;
      };
    }

    private long[] stepEnds = new long[0];
    private long[] forwardEnds = new long[0];
    private double runMs;
    private double cpuMs;

    /** One profiled sampling run with noise seed {@code seed}; {@link #print} reports the last. */
    void run(long seed) {
      nanos[0] = 0;
      nanos[1] = 0;
      calls[0] = 0;
      calls[1] = 0;
      VelocityModel main = timed(gen.network(), 0);
      Guidance guidance =
          switch (kind) {
            case NONE -> Guidance.none();
            case CFG -> Guidance.cfg(scale, gen.numClasses());
            case AUTOGUIDANCE -> Guidance.autoGuidance(timed(gen.guideNetwork(), 1), scale);
          };
      Sampler sampler =
          Sampler.euler(options.gridPoints(), gen.network().config().timeDistShift())
              .withCudaGraphs(gen.cudaGraphs());
      int[] shape = gen.latentShape();
      long[] ends = new long[sampler.steps() + 1];
      long[] inForwards = new long[sampler.steps() + 1];
      double cpu0;
      long t0;
      long t1;
      try (Scope s = Scope.open();
          TorchGenerator g = TorchGenerator.cpu(seed);
          var p = InferencePrecision.use(compute)) {
        Tensor noise = Sampler.initialNoise(g, dev, labels.length, shape[0], shape[1], shape[2]);
        Tensor y = Tensor.of(labels).to(dev);
        cpu0 = BenchCommand.processCpuMs();
        t0 = System.nanoTime();
        ends[0] = t0;
        sampler.sample(
            main,
            guidance,
            noise,
            y,
            Sampler.Hooks.NONE.withListener(
                (point, t, state) -> {
                  Sample.sync(dev);
                  ends[point] = System.nanoTime();
                  inForwards[point] = nanos[0] + nanos[1];
                }));
        t1 = System.nanoTime();
      }
      cpuMs = BenchCommand.processCpuMs() - cpu0;
      runMs = (t1 - t0) / 1e6;
      stepEnds = ends;
      forwardEnds = inForwards;
    }

    /** Prints the last run's breakdown against the forwards timed alone. */
    void print(double[] forwardAloneMs) {
      int steps = stepEnds.length - 1;
      double mainMs = nanos[0] / 1e6;
      double guideMs = nanos[1] / 1e6;
      double rest = runMs - mainMs - guideMs;
      double[] stepMs = new double[steps];
      for (int i = 0; i < steps; i++) {
        stepMs[i] = (stepEnds[i + 1] - stepEnds[i]) / 1e6;
      }
      double[] outsideMs = new double[steps];
      for (int i = 0; i < steps; i++) {
        outsideMs[i] = stepMs[i] - (forwardEnds[i + 1] - forwardEnds[i]) / 1e6;
      }
      double[] sorted = stepMs.clone();
      java.util.Arrays.sort(sorted);
      System.out.printf("profile of the last run (%d steps), every network call timed:%n", steps);
      System.out.printf(
          "  run %.0f ms (CPU %.0f ms), step median %.1f ms (min %.1f, max %.1f)%n",
          runMs, cpuMs, BenchCommand.median(stepMs), sorted[0], sorted[steps - 1]);
      System.out.printf(
          "  main forward   %4d calls, %9.1f ms, %8.1f ms/call (%.1f%% of the run; alone %.1f)%n",
          calls[0],
          mainMs,
          mainMs / Math.max(1, calls[0]),
          100 * mainMs / runMs,
          forwardAloneMs[0]);
      if (calls[1] > 0) {
        System.out.printf(
            "  guide forward  %4d calls, %9.1f ms, %8.1f ms/call (%.1f%% of the run; alone %.1f)%n",
            calls[1], guideMs, guideMs / calls[1], 100 * guideMs / runMs, forwardAloneMs[1]);
      }
      System.out.printf(
          "  outside the forwards (guidance, update, copies, loop): %.1f ms, %.3f ms/step, median"
              + " %.3f ms/step (%.2f%% of the run)%n",
          rest, rest / steps, BenchCommand.median(outsideMs), 100 * rest / runMs);
      double floor = steps * (forwardAloneMs[0] + forwardAloneMs[1]);
      System.out.printf(
          "  run vs steps x forwards-alone: %+.1f%%; in-run forwards vs forwards-alone: %+.1f%%%n",
          100 * (runMs - floor) / floor, 100 * ((mainMs + guideMs) - floor) / floor);
      // CPU time moves far less than wall time on a shared machine: the comparison to read there
      double cpuFloor = steps * (forwardAloneMs[2] + forwardAloneMs[3]);
      System.out.printf(
          "  CPU: run %.0f ms = %.1f ms/step; forwards alone %.1f + %.1f ms; run vs steps x"
              + " forwards-alone (CPU) %+.1f%%%n",
          cpuMs,
          cpuMs / steps,
          forwardAloneMs[2],
          forwardAloneMs[3],
          100 * (cpuMs - cpuFloor) / cpuFloor);
    }
  }

  /**
   * {@code rectok bench quality}: the Fashion-MNIST demo's metrics with the shipped models, in fp32
   * and in bf16, printed side by side.
   */
  @Command(
      name = "quality",
      description = "Demo metrics (PSNR, linear probe, domain FID) in fp32 and bf16, side by side.")
  static final class Quality implements Callable<Integer> {
    @Option(
        names = "--models",
        description = "folder with the demo's model files (default: the shipped ones)")
    Path models = DemoCommand.defaultModels();

    @Option(names = "--data", description = "Fashion-MNIST folder (default: ${DEFAULT-VALUE})")
    Path data = FashionMnist.defaultDir();

    @Option(
        names = "--per-class",
        description =
            "generated images per class for each FID (default: ${DEFAULT-VALUE}: "
                + "1,000 samples)")
    int perClass = 100;

    @Option(
        names = "--test-images",
        description = "test images (PSNR, probe, FID reference) (default: ${DEFAULT-VALUE})")
    int testImages = 2000;

    @Option(
        names = "--steps",
        description = "time-grid points, steps + 1 (default: ${DEFAULT-VALUE})")
    int gridPoints = 33;

    @Override
    public Integer call() throws Exception {
      dev.rectok.torch.nn.InferencePrecision.resolve(
          Precision.BF16, Device.CPU); // refuses early without bf16
      DemoEvaluation.Options o =
          new DemoEvaluation.Options(testImages, 5000, perClass, gridPoints, 1.5, 0);
      FashionMnist train = FashionMnist.load(data, true, o.probeTrain());
      FashionMnist test = FashionMnist.load(data, false, o.testImages());
      List<Precision> sides = List.of(Precision.FP32, Precision.BF16);
      DemoEvaluation.Metrics[] m = new DemoEvaluation.Metrics[2];
      double[] seconds = new double[2];
      try (VitTeacher teacher = VitTeacher.load(models.resolve(FashionMnistRecipe.TEACHER))) {
        for (int i = 0; i < 2; i++) {
          long t0 = System.nanoTime();
          try (RecTokTokenizer tok =
                  RecTokTokenizer.open(
                      models.resolve(FashionMnistRecipe.TOKENIZER), Device.CPU, sides.get(i));
              DiTGenerator gen =
                  DiTGenerator.open(
                      models.resolve(FashionMnistRecipe.GENERATOR),
                      models.resolve(FashionMnistRecipe.GUIDE),
                      Device.CPU,
                      sides.get(i))) {
            m[i] =
                DemoEvaluation.evaluate(
                    tok, gen, true, teacher, train, test, o, sides.get(i), Progress.NONE);
          }
          seconds[i] = (System.nanoTime() - t0) / 1e9;
        }
      }
      System.out.printf("%-44s %10s %10s%n", "metric (Fashion-MNIST demo models)", "fp32", "bf16");
      row(
          "reconstruction PSNR, dB (" + o.testImages() + " test images)",
          m[0].psnr(),
          m[1].psnr(),
          "%10.2f");
      row(
          "linear probe on latents, %",
          100 * m[0].probeAccuracy(), 100 * m[1].probeAccuracy(), "%10.2f");
      row(
          "domain FID unguided (" + 10 * perClass + " samples, " + (gridPoints - 1) + " steps)",
          m[0].fidUnguided(),
          m[1].fidUnguided(),
          "%10.3f");
      row(
          "domain FID AutoGuided w=1.5 (" + 10 * perClass + " samples)",
          m[0].fidAutoGuided(),
          m[1].fidAutoGuided(),
          "%10.3f");
      row("domain FID real-vs-real floor", m[0].fidRealVsReal(), m[1].fidRealVsReal(), "%10.3f");
      row("evaluation wall time, s", seconds[0], seconds[1], "%10.1f");
      return 0;
    }

    private static void row(String name, double a, double b, String fmt) {
      System.out.printf("%-44s " + fmt + " " + fmt + "%n", name, a, b);
    }
  }
}
