package dev.rectok.train.generator;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.generate.transport.TrainingBatch;
import dev.rectok.models.ModelFile;
import dev.rectok.models.dit.DiTConfig;
import dev.rectok.models.dit.DiTwDDTHead;
import dev.rectok.torch.Autocast;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.distributed.DistributedDataParallel;
import dev.rectok.torch.nn.Parameter;
import dev.rectok.torch.optim.AdamW;
import dev.rectok.torch.optim.ClipGrad;
import dev.rectok.torch.optim.LrSchedule;
import dev.rectok.train.distributed.DataParallel;
import dev.rectok.train.loop.Batch;
import dev.rectok.train.loop.Ema;
import dev.rectok.train.loop.ParamGroups;
import dev.rectok.train.loop.TrainingTask;
import dev.rectok.train.run.TrainingCheckpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * DiT^DH flow-matching training (docs/training.md#generator-recipe, docs/generator.md#training-law)
 * as a {@link TrainingTask}. One {@link #step}:
 *
 * <ol>
 *   <li>the learning rate from the {@code --ditdh_sched} schedule at the fractional epoch;
 *   <li>x1 = the batch's normalized, posterior-sampled latents from the {@link LatentSource};
 *   <li>label dropout: each label becomes the null class {@code num_classes} with probability
 *       {@code label_drop_prob}, i.e. {@code where(rand(B) < p, num_classes, y)} as the reference's
 *       {@code LabelEmbedder.token_drop};
 *   <li>{@link TrainingBatch#draw} with the DiT's time shift ({@link DiTConfig#timeDistShift}):
 *       noise x0, times t (0 = noise, 1 = data), x_t and the velocity target x1 − x0;
 *   <li>v̂ = DiT(x_t, t, y), loss = the per-sample mean squared error averaged over the batch;
 *   <li>backward, global-norm clipping to {@code grad_clip}, AdamW (0.9, 0.95), EMA update.
 * </ol>
 *
 * <p>Label dropout is done here rather than inside the network so that its draw comes from this
 * trainer's checkpointed generator and the dropped fraction can be reported; the network is
 * therefore kept in eval mode, which in {@link DiTwDDTHead} changes nothing but its own label
 * dropout (the DiT has no dropout layers or batch statistics).
 *
 * <p>Randomness: the weights are initialized on the CPU from {@code seed} (so they do not depend on
 * the device); three generators on the training device, derived from {@code seed}, draw the label
 * dropout, the flow noise and times, and the posterior noise. All three are registered with the
 * checkpoint, so a resumed run continues bit-identically.
 *
 * <p><b>Data parallel</b> (issue 14, {@link DataParallel}): rank 0's weights are broadcast at
 * construction, gradients are averaged over the ranks after the backward (DDP's buckets), and the
 * label dropout, flow noise and times are drawn for the global batch, each rank keeping its rows.
 * The latent source's posterior noise is drawn per rank. A no-op in one process.
 *
 * <p>The AutoGuidance companion (DiT^DH-S) is trained by a second instance with a smaller {@link
 * GeneratorTrainingConfig#model}; nothing else differs.
 *
 * <p><b>Ownership.</b> Owns the DiT, its EMA shadow, the optimizer and the generators; {@link
 * #close} frees them. Borrows the latent source (the caller closes it) and the batches. Metric
 * values are plain doubles. <b>Threading.</b> Not thread-safe: one training thread calls {@link
 * #step}, {@link #register}, {@link #exportModel} and {@link #close}.
 */
public final class GeneratorTrainer implements TrainingTask {
  private DType mixedPrecision;
  private final GeneratorTrainingConfig config;
  private final LatentSource latents;
  private final Device device;
  private final DiTwDDTHead model;
  private final DiTwDDTHead shadow;
  private final Ema ema;
  private final AdamW optimizer;
  private final LrSchedule schedule;
  private final List<Parameter> trainable;
  private final TorchGenerator labelGen;
  private final TorchGenerator flowGen;
  private final TorchGenerator latentGen;
  // --- issue 14: data parallel (a no-op in a world of one) ---
  private final DistributedDataParallel ddp;

  /**
   * Builds the DiT of {@code config.model()} with the reference's initialization, its EMA shadow
   * and the optimizer, on {@code device}.
   *
   * @throws IllegalArgumentException if the latent source's shape does not fit the model
   */
  public GeneratorTrainer(GeneratorTrainingConfig config, LatentSource latents, Device device) {
    this.config = Objects.requireNonNull(config, "config");
    this.latents = Objects.requireNonNull(latents, "latents");
    this.device = Objects.requireNonNull(device, "device");
    DiTConfig m = config.model();
    if (latents.channels() != m.tokenChannels() || latents.gridSize() != m.inputSize()) {
      throw new IllegalArgumentException(
          "the latent source gives ("
              + latents.channels()
              + ", "
              + latents.gridSize()
              + ", "
              + latents.gridSize()
              + ") latents, the DiT takes ("
              + m.tokenChannels()
              + ", "
              + m.inputSize()
              + ", "
              + m.inputSize()
              + ")");
    }
    DiTwDDTHead live = null;
    DiTwDDTHead avg = null;
    AdamW opt = null;
    Ema averaged;
    TorchGenerator[] gens = new TorchGenerator[3];
    try (TorchGenerator init = TorchGenerator.cpu(config.seed())) {
      live = new DiTwDDTHead(m, init);
      avg = new DiTwDDTHead(m, init);
      if (device.isCuda()) {
        live.to(null, device);
        avg.to(null, device);
      }
      live.eval(); // label dropout is ours, see the class comment
      avg.eval();
      for (int i = 0; i < gens.length; i++) {
        gens[i] = TorchGenerator.create(device, deriveSeed(config.seed(), i + 1));
      }
      opt =
          new AdamW(
              ParamGroups.reference(live, config.lr(), config.weightDecay()),
              GeneratorTrainingConfig.BETA1,
              GeneratorTrainingConfig.BETA2,
              GeneratorTrainingConfig.EPS);
      averaged = new Ema(live, avg); // copies the live weights into the shadow
    } catch (RuntimeException e) {
      for (AutoCloseable c : new AutoCloseable[] {opt, live, avg, gens[0], gens[1], gens[2]}) {
        closeQuietly(c, e);
      }
      throw e;
    }
    this.model = live;
    this.shadow = avg;
    this.ema = averaged;
    this.optimizer = opt;
    this.labelGen = gens[0];
    this.flowGen = gens[1];
    this.latentGen = gens[2];
    this.schedule =
        LrSchedule.constantThenLinear(
            config.lr(), config.minLr(), config.schedConstantEpochs(), config.schedEndEpoch());
    this.trainable = live.parameters().stream().filter(Parameter::requiresGrad).toList();
    // --- issue 14: rank 0's weights everywhere; gradients averaged per step ---
    DistributedDataParallel.broadcastFromRankZero(DataParallel.current(), List.of(live, avg));
    this.ddp = new DistributedDataParallel(DataParallel.current(), trainable);
  }

  private static void closeQuietly(AutoCloseable c, Exception primary) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      primary.addSuppressed(e);
    }
  }

  /**
   * SplitMix64 of seed and stream, so the generators are decorrelated but fixed by {@code seed}.
   */
  static long deriveSeed(long seed, int stream) {
    long z = seed + 0x9E3779B97F4A7C15L * stream;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * Runs the DiT forward under {@code torch.autocast} with {@code dtype} (the reference: bf16 on
   * CUDA), or in float32 with null; the loss, backward and optimizer stay float32.
   */
  public void mixedPrecision(DType dtype) {
    if (dtype != null) {
      Autocast.enable(device, dtype).close(); // validates the combination now, not mid-run
    }
    this.mixedPrecision = dtype;
  }

  public GeneratorTrainingConfig config() {
    return config;
  }

  /** The live network (borrowed; its gradients after a step are that step's clipped gradients). */
  public DiTwDDTHead model() {
    return model;
  }

  /** The EMA network (borrowed), what {@link #exportModel} writes. */
  public DiTwDDTHead emaModel() {
    return shadow;
  }

  /**
   * Registers {@code model}, {@code ema}, the optimizer {@code opt} and the generators {@code
   * labels}, {@code flow}, {@code latents}.
   */
  @Override
  public void register(TrainingCheckpoint checkpoint) {
    checkpoint
        .module("model", model)
        .module("ema", shadow)
        .optimizer("opt", optimizer)
        .generator("labels", labelGen)
        .generator("flow", flowGen)
        .generator("latents", latentGen);
  }

  /**
   * One optimizer step (see the class comment). Metrics: {@code loss} (before the step), {@code
   * lr}, {@code grad_norm} (the global norm before clipping), {@code label_drop_fraction}.
   *
   * @throws IllegalArgumentException if the labels are not (B) integers in [0, num_classes)
   */
  @Override
  public Map<String, Double> step(Batch batch, double epoch) {
    int b = batch.size();
    int numClasses = config.model().numClasses();
    Tensor labels = batch.labels();
    if (labels.dim() != 1 || labels.size(0) != b || labels.dtype().isFloatingPoint()) {
      throw new IllegalArgumentException("labels must be (" + b + ") integers, got " + labels);
    }
    try (Scope s = Scope.open()) {
      // checked on the batch's own (CPU) labels: no device synchronisation before the step's work
      long lo = labels.min().itemLong();
      long hi = labels.max().itemLong();
      if (lo < 0 || hi >= numClasses) {
        throw new IllegalArgumentException(
            "labels must be in [0, " + numClasses + "), got [" + lo + ", " + hi + "]");
      }
      Tensor y = labels.to(DType.INT64, device);
      double lr = schedule.apply(optimizer, epoch);
      Tensor x1 = latents.latents(batch, latentGen, device);
      double dropped = 0;
      if (config.labelDropProb() > 0) {
        Tensor[] d = dropLabels(y, config.labelDropProb(), numClasses, labelGen);
        y = d[0];
        dropped = d[1].to(DType.FLOAT32).sum().item() / b;
      }
      TrainingBatch tb =
          DataParallel.worldSize() == 1
              ? TrainingBatch.draw(x1, config.model().timeDistShift(), flowGen)
              : globalBatchDraw(x1, config.model().timeDistShift(), flowGen);
      Tensor v;
      try (Autocast a =
          mixedPrecision == null ? Autocast.disable() : Autocast.enable(device, mixedPrecision)) {
        v = model.forward(tb.xt(), tb.t(), y);
      }
      Tensor loss = tb.loss(v.to(DType.FLOAT32));
      model.zeroGrad();
      loss.backward();
      ddp.averageGradients();
      double gradNorm = ClipGrad.clipGradNorm(trainable, config.gradClip());
      optimizer.step();
      ema.update(config.emaDecay());
      Map<String, Double> metrics = new LinkedHashMap<>();
      metrics.put("loss", loss.item());
      metrics.put("lr", lr);
      metrics.put("grad_norm", gradNorm);
      metrics.put("label_drop_fraction", dropped);
      return metrics;
    }
  }

  /**
   * The reference's {@code token_drop}: {@code where(rand(B) < p, nullClass, y)} with the uniform
   * draw from {@code gen} on {@code y}'s device. Returns {@code [labels, dropMask]} (bool), owned
   * by the caller; {@code y} is borrowed.
   */
  static Tensor[] dropLabels(Tensor y, double p, long nullClass, TorchGenerator gen) {
    try (Scope s = Scope.open()) {
      // issue 14: the draw of the global batch, this rank's rows (the draw itself in one process)
      Tensor u =
          DataParallel.rows(
              Tensor.rand(
                  new long[] {y.size(0) * DataParallel.worldSize()},
                  gen,
                  DType.FLOAT32,
                  y.device()));
      Tensor drop = u.lt(p);
      Tensor out = Tensor.where(drop, Tensor.full(y.shape(), nullClass, y.dtype(), y.device()), y);
      return new Tensor[] {s.keep(out), s.keep(drop)};
    }
  }

  /**
   * Writes the EMA network as a self-describing generator model file ({@link ModelFile}, kind
   * {@code generator}, the DiT's constructor kwargs) that {@code DiTGenerator.open} and {@code
   * rectok generate} read. The name must end in {@code .safetensors}. Written atomically.
   *
   * @throws IOException if writing fails
   */
  public void exportModel(Path file) throws IOException {
    if (!file.getFileName().toString().endsWith(".safetensors")) {
      throw new IllegalArgumentException(
          "a generator model file must end in .safetensors, got " + file);
    }
    ModelFile.write(
        file,
        "generator",
        ModelFile.configFromGolden(config.model().toConstructorKwargs()),
        shadow.stateDict(),
        null,
        null);
  }

  /**
   * {@link TrainingBatch#draw} for the global batch (issue 14): x0 and the times drawn for all
   * ranks in the same order as one process would, this rank's rows kept.
   */
  private static TrainingBatch globalBatchDraw(Tensor x1, double shift, TorchGenerator gen) {
    try (Scope s = Scope.open()) {
      Tensor x0 =
          DataParallel.rows(
              Tensor.randn(DataParallel.globalShape(x1.shape()), gen, x1.dtype(), x1.device()));
      Tensor t =
          DataParallel.rows(
              dev.rectok.generate.transport.TimeGrid.trainingTimes(
                  (int) x1.size(0) * DataParallel.worldSize(), shift, gen, x1.device()));
      Tensor xt = dev.rectok.generate.transport.LinearPath.interpolate(x0, x1, t);
      Tensor target = dev.rectok.generate.transport.LinearPath.velocityTarget(x0, x1);
      return new TrainingBatch(s.keep(t), s.keep(x0), s.keep(xt), s.keep(target));
    }
  }

  @Override
  public void close() {
    ddp.close();
    optimizer.close();
    model.close();
    shadow.close();
    labelGen.close();
    flowGen.close();
    latentGen.close();
  }
}
