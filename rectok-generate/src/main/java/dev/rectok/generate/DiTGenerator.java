package dev.rectok.generate;

import dev.rectok.api.Device;
import dev.rectok.api.GenerateOptions;
import dev.rectok.api.Latents;
import dev.rectok.api.Progress;
import dev.rectok.generate.transport.Guidance;
import dev.rectok.generate.transport.Sampler;
import dev.rectok.generate.transport.VelocityModel;
import dev.rectok.models.dit.DiTConfig;
import dev.rectok.models.dit.DiTwDDTHead;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import java.util.Objects;

/**
 * {@link dev.rectok.api.Generator} over a DiT^DH network, its transport and guidance: Euler or Heun
 * on the reference's shifted grid, with no guidance, CFG (the null class), or AutoGuidance (a
 * second, smaller DiT^DH with the same labels).
 *
 * <p>Reproducible by seed: the initial noise is drawn on the CPU from a generator seeded per call,
 * as the reference draws it, then moved to the device. Thread-safe: the networks are only read
 * (eval mode), every call owns its tensors and generator. Owns both networks; close it after the
 * last call returned.
 */
public final class DiTGenerator implements dev.rectok.api.Generator {
  private final DiTwDDTHead net;
  private final DiTwDDTHead guide;
  private final Device device;
  private final DiTConfig config;

  /**
   * Takes ownership of {@code net} and of {@code guide} (null: no AutoGuidance), both already
   * loaded and on {@code device}.
   */
  public DiTGenerator(DiTwDDTHead net, DiTwDDTHead guide, Device device) {
    this.net = Objects.requireNonNull(net, "net");
    this.guide = guide;
    this.device = Objects.requireNonNull(device, "device");
    this.config = net.config();
    net.eval();
    if (guide != null) {
      guide.eval();
      if (guide.config().tokenChannels() != config.tokenChannels()
          || guide.config().inputSize() != config.inputSize()) {
        throw new IllegalArgumentException(
            "the guide model's latent shape differs from the main model's");
      }
    }
  }

  /**
   * Opens a generator model file written by {@code rectok convert} and, optionally, the
   * AutoGuidance companion (another generator file, e.g. DiTDDT_s), on {@code device}.
   */
  public static DiTGenerator open(java.nio.file.Path model, java.nio.file.Path guide, Device device)
      throws java.io.IOException {
    dev.rectok.models.DeviceCheck.requireAvailable(
        device); // issue 10: before the models are loaded
    DiTwDDTHead main = load(model, device);
    DiTwDDTHead companion = null;
    try {
      companion = guide == null ? null : load(guide, device);
      return new DiTGenerator(main, companion, device);
    } catch (java.io.IOException | RuntimeException e) {
      // The constructor may refuse the guide (another latent shape): nothing owns either network
      // yet.
      main.close();
      if (companion != null) {
        companion.close();
      }
      throw e;
    }
  }

  private static DiTwDDTHead load(java.nio.file.Path file, Device device)
      throws java.io.IOException {
    DiTConfig config;
    try (var f = dev.rectok.models.ModelFile.open(file)) {
      config = dev.rectok.models.ModelFile.header(f).generatorConfig();
    }
    DiTwDDTHead net = new DiTwDDTHead(config);
    try {
      dev.rectok.models.dit.DiTCheckpoints.load(net, file);
      if (device.isCuda()) {
        net.to(null, device);
      }
      return net;
    } catch (java.io.IOException | RuntimeException e) {
      net.close();
      throw e;
    }
  }

  // --- issue 13: precision ---
  /**
   * The Linears that run in bf16: all but the time embedding's MLP, which stays float32 as the
   * issue's precision list asks (one row per sample: it costs nothing). The per-sample adaLN
   * projections of the s-path stay float32 by the row rule of {@link
   * dev.rectok.torch.nn.InferencePrecision#MIN_LOW_PRECISION_ROWS}; the DDT head's per-token ones
   * are GEMMs and run in bf16, as under autocast.
   */
  public static final java.util.function.Predicate<String> BF16_LINEARS =
      path -> !path.startsWith("t_embedder.");

  private volatile boolean preparedBf16;

  /**
   * {@link #open(java.nio.file.Path, java.nio.file.Path, Device)} that also converts the weights
   * for {@code precision} now (resolved for {@code device} and this CPU), instead of at the first
   * bf16 {@link #sample} call.
   *
   * @throws IllegalArgumentException when {@code precision} is bf16 and this CPU has no native bf16
   */
  public static DiTGenerator open(
      java.nio.file.Path model,
      java.nio.file.Path guide,
      Device device,
      dev.rectok.api.Precision precision)
      throws java.io.IOException {
    dev.rectok.api.DType compute =
        dev.rectok.torch.nn.InferencePrecision.resolve(precision, device);
    DiTGenerator g = open(model, guide, device);
    if (compute != dev.rectok.api.DType.FLOAT32) {
      g.prepareBf16Only(compute);
    }
    return g;
  }

  /**
   * Converts both networks' GEMM weights to {@code compute} once (later calls return at once).
   * Thread-safe.
   */
  public void prepare(dev.rectok.api.DType compute) {
    if (preparedBf16) {
      return;
    }
    synchronized (this) {
      if (!preparedBf16) {
        dev.rectok.torch.nn.InferencePrecision.prepare(net, compute, BF16_LINEARS);
        if (guide != null) {
          dev.rectok.torch.nn.InferencePrecision.prepare(guide, compute, BF16_LINEARS);
        }
        preparedBf16 = true;
      }
    }
  }

  /** The main network (borrowed: owned by this generator). */
  public DiTwDDTHead network() {
    return net;
  }

  /** The AutoGuidance network, or null (borrowed: owned by this generator). */
  public DiTwDDTHead guideNetwork() {
    return guide;
  }

  private volatile boolean bf16Only;

  /**
   * Frees the float32 weights of the converted Linears (halving the networks' memory); afterwards
   * only bf16 {@link #sample} calls are accepted. Call it after {@link #prepare}; thread-safe.
   */
  public synchronized void releaseFloat32() {
    if (!preparedBf16) {
      throw new IllegalStateException(
          "prepare(BFLOAT16) first: nothing to run in once float32 is released");
    }
    dev.rectok.torch.nn.InferencePrecision.releaseFloat32(net);
    if (guide != null) {
      dev.rectok.torch.nn.InferencePrecision.releaseFloat32(guide);
    }
    bf16Only = true;
  }

  /**
   * {@link #prepare} and {@link #releaseFloat32} in one pass, Linear by Linear, so that the peak
   * memory stays that of the float32 networks. Thread-safe; before any sampling.
   */
  public synchronized void prepareBf16Only(dev.rectok.api.DType compute) {
    dev.rectok.torch.nn.InferencePrecision.prepareReleasing(net, compute, BF16_LINEARS);
    if (guide != null) {
      dev.rectok.torch.nn.InferencePrecision.prepareReleasing(guide, compute, BF16_LINEARS);
    }
    preparedBf16 = true;
    bf16Only = true;
  }

  // --- issue 13: CUDA graphs ---
  private volatile boolean cudaGraphs;

  /**
   * Replays each Euler sampling step as a CUDA graph ({@link Sampler#withCudaGraphs}) in later
   * {@link #sample} calls, or stops doing so. Thread-safe; applies to calls that start afterwards.
   *
   * @throws IllegalArgumentException when turning it on for a CPU generator or a shim without CUDA
   *     graphs (a CUDA build of LibTorch 2.x has them), with the reason
   */
  public void useCudaGraphs(boolean on) {
    if (on) {
      String why = dev.rectok.torch.CudaGraph.unsupportedReason(device);
      if (why != null) {
        throw new IllegalArgumentException(why);
      }
    }
    cudaGraphs = on;
  }

  /** Whether sampling steps are replayed as CUDA graphs ({@link #useCudaGraphs}). */
  public boolean cudaGraphs() {
    return cudaGraphs;
  }

  @Override
  public int[] latentShape() {
    return new int[] {config.tokenChannels(), config.inputSize(), config.inputSize()};
  }

  @Override
  public int numClasses() {
    return config.numClasses();
  }

  @Override
  public Latents sample(long[] labels, long seed, GenerateOptions options, Progress progress) {
    Objects.requireNonNull(options, "options");
    return run(
        labels,
        options,
        progress,
        () -> {
          if (options.firstSampleIndex() >= 0) {
            return SampleNoise.of(
                seed, options.firstSampleIndex(), labels.length, latentShape(), device);
          }
          int[] shape = latentShape();
          try (TorchGenerator gen = TorchGenerator.cpu(seed)) {
            return Sampler.initialNoise(gen, device, labels.length, shape[0], shape[1], shape[2]);
          }
        });
  }

  // --- issue 13: per-sample seeds ---
  /**
   * One batched call: sample {@code i}'s noise is {@link SampleNoise}'s global index 0 of {@code
   * seeds[i]}, the noise a one-sample call with {@code firstSampleIndex} 0 draws.
   */
  @Override
  public Latents sample(long[] labels, long[] seeds, GenerateOptions options, Progress progress) {
    GenerateOptions one = dev.rectok.api.PerSampleSeeds.check(labels, seeds, options);
    long[] s = seeds.clone();
    return run(labels, one, progress, () -> noise(s));
  }

  /** The initial noise of a per-sample-seed call: row i from (seeds[i], index 0). */
  Tensor noise(long[] seeds) {
    return SampleNoise.of(seeds, new long[seeds.length], latentShape(), device);
  }

  private Latents run(
      long[] labels,
      GenerateOptions options,
      Progress progress,
      java.util.function.Supplier<Tensor> initialNoise) {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(progress, "progress");
    if (labels.length == 0) {
      throw new IllegalArgumentException("no labels: nothing to generate");
    }
    for (long l : labels) {
      if (l < 0 || l >= numClasses()) {
        throw new IllegalArgumentException("label " + l + " is outside 0.." + (numClasses() - 1));
      }
    }
    Guidance guidance =
        switch (options.guidance()) {
          case NONE -> Guidance.none();
          case CFG ->
              new Guidance.Cfg(
                  options.guidanceScale(),
                  numClasses(),
                  options.intervalMin(),
                  options.intervalMax());
          case AUTOGUIDANCE -> {
            if (guide == null) {
              throw new IllegalArgumentException(
                  "AutoGuidance needs a guide model (e.g. DiTDDT_s); none was loaded");
            }
            VelocityModel g = guide::forward;
            yield new Guidance.AutoGuidance(
                g, options.guidanceScale(), options.intervalMin(), options.intervalMax());
          }
        };
    Sampler sampler =
        Sampler.of(
            options.method() == GenerateOptions.Method.HEUN
                ? Sampler.Method.HEUN
                : Sampler.Method.EULER,
            options.gridPoints(),
            config.timeDistShift());
    if (cudaGraphs) {
      sampler = sampler.withCudaGraphs(true); // issue 13
    }
    int[] shape = latentShape();
    // issue 13: the networks' GEMMs in the requested precision; the sampler's state stays float32
    dev.rectok.api.DType compute =
        dev.rectok.torch.nn.InferencePrecision.resolve(options.precision(), device);
    if (compute != dev.rectok.api.DType.FLOAT32) {
      prepare(compute);
    } else if (bf16Only) {
      throw new IllegalArgumentException(
          "this generator was opened for bf16 only (its float32 weights were freed): "
              + "ask for precision bf16 or auto, or open it with precision fp32");
    }
    try (Scope s = Scope.open();
        var precision = dev.rectok.torch.nn.InferencePrecision.use(compute)) {
      Tensor noise = initialNoise.get();
      Tensor y = Tensor.of(labels).to(device);
      VelocityModel model = net::forward;
      Tensor x =
          sampler.sample(
              model,
              guidance,
              noise,
              y,
              Sampler.Hooks.NONE.withProgress(progress).withCancellation(options.cancelled()));
      float[] values = x.toFloatArray();
      // --- issue 10: a diverging sampler must fail, not hand on latents that decode to black ---
      int bad = dev.rectok.torch.io.FiniteValues.firstNonFinite(values);
      if (bad >= 0) {
        throw new ArithmeticException(
            "sampling produced a non-finite latent ("
                + values[bad]
                + " in sample "
                + bad / (shape[0] * shape[1] * shape[2])
                + ") with "
                + options.guidance().name().toLowerCase(java.util.Locale.ROOT)
                + " guidance, scale "
                + options.guidanceScale()
                + " and "
                + options.gridPoints()
                + " grid points; lower the guidance scale or check the model files");
      }
      return new Latents(values, labels.length, shape[0], shape[1], shape[2], true);
    }
  }

  @Override
  public void close() {
    net.close();
    if (guide != null) {
      guide.close();
    }
  }
}
