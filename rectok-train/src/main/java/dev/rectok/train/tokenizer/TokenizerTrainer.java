package dev.rectok.train.tokenizer;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.image.PixelRange;
import dev.rectok.models.tokenizer.ActivationProbe;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.models.tokenizer.RecTokConfig;
import dev.rectok.torch.Autocast;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.Torch;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.distributed.DistributedContext;
import dev.rectok.torch.distributed.DistributedDataParallel;
import dev.rectok.torch.nn.LoadReport;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.Parameter;
import dev.rectok.torch.optim.AdamW;
import dev.rectok.torch.optim.ClipGrad;
import dev.rectok.torch.optim.LrSchedule;
import dev.rectok.train.distributed.DataParallel;
import dev.rectok.train.loop.Batch;
import dev.rectok.train.loop.Ema;
import dev.rectok.train.loop.ParamGroups;
import dev.rectok.train.loop.TrainingTask;
import dev.rectok.train.loss.FeatureTeacher;
import dev.rectok.train.loss.HingeLoss;
import dev.rectok.train.loss.PatchGanDiscriminator;
import dev.rectok.train.loss.PerceptualLoss;
import dev.rectok.train.run.TrainingCheckpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The RecTok tokenizer trainer (docs/training.md#stage1, #stage2). Stage 1 ({@link #stage1}) trains
 * encoder, pixel decoder and semantic decoder from scratch with flow semantic distillation and
 * reconstruction-alignment distillation ({@link DistillationForward}); stage 2 ({@link
 * #decoderFineTuning}) fine-tunes only {@code decoder.*} of a stage-1 model without masking, latent
 * noise, semantic or KL loss, with the GAN from epoch 0.
 *
 * <p>Each {@link #step}: learning rate of both optimizers from the warmup-cosine schedule at the
 * fractional epoch; generator forward and backward; global-norm clipping; AdamW (betas 0.9/0.95,
 * the reference's no-weight-decay groups); EMA update of the shadow tokenizer; then, from {@code
 * discriminator_start_epoch} on, one discriminator step on the same reconstructions (hinge loss,
 * BatchNorm in train mode, its own AdamW with the same rules). The GAN weight is the constant 0.1
 * of the reference (no adaptive weight). The discriminator's gradients are zeroed before its own
 * backward, so the generator-side GAN loss does not leak into them [inferred]; its gradients are
 * clipped with the same {@code grad_clip} [inferred].
 *
 * <p>Weight initialisation: {@link Torch#manualSeed} with the config's seed (the semantic decoder
 * keeps PyTorch's default init, which draws from the global generator,
 * docs/quirks.md#semantic-decoder-init), then the reference's {@code _init_weights} and taming's
 * discriminator init from a seeded generator. Two trainers with the same config therefore start,
 * and step, identically.
 *
 * <p><b>Data parallel</b> (issue 14, {@link DataParallel}): rank 0's weights are broadcast at
 * construction; the generator's and the discriminator's gradients are averaged over the ranks after
 * each backward (DDP's buckets); the step's noise is drawn for the global batch and each rank keeps
 * its rows. A no-op in one process.
 *
 * <p><b>Ownership and threading.</b> Owns the tokenizer, its EMA shadow, the discriminator, both
 * optimizers and the noise generators, and frees them in {@link #close}. <em>Borrows</em> the
 * feature teacher and the perceptual loss (they are frozen and can be shared by the stage-1 and
 * stage-2 trainers); the caller closes them after the trainer. Not thread-safe: one training
 * thread.
 */
public final class TokenizerTrainer implements TrainingTask {
  private DType mixedPrecision;
  private final Device device;
  private static final System.Logger LOG = System.getLogger(TokenizerTrainer.class.getName());

  private final TokenizerTrainingConfig config;
  private final RecTok model;
  private final RecTok shadow;
  private final PatchGanDiscriminator discriminator;
  private final Ema ema;
  private final AdamW optimizer;
  private final AdamW discriminatorOptimizer;
  private final TrainingNoise.Seeded noise;
  private final DistillationForward forward;
  private final LrSchedule schedule;
  private final List<Parameter> trainable;
  private final List<Parameter> discriminatorParams;
  // --- issue 14: data parallel (no-ops in a world of one) ---
  private final TrainingNoise stepNoise;
  private final DistributedDataParallel ddp;
  private final DistributedDataParallel discriminatorDdp;

  private TokenizerTrainer(
      TokenizerTrainingConfig config,
      RecTokConfig modelConfig,
      FeatureTeacher teacher,
      PerceptualLoss perceptual,
      Device device,
      Module initModel,
      Module initEma) {
    this.config = Objects.requireNonNull(config, "config");
    Objects.requireNonNull(modelConfig, "modelConfig");
    Objects.requireNonNull(device, "device");
    this.device = device;
    Torch.manualSeed(config.seed());
    try (TorchGenerator init = TorchGenerator.cpu(config.seed())) {
      model = new RecTok(modelConfig);
      model.initWeights(init);
      discriminator =
          new PatchGanDiscriminator(
              3, config.discriminatorNdf(), config.discriminatorLayers(), init);
    }
    shadow = new RecTok(modelConfig);
    if (initModel != null) {
      load(model, initModel);
      // freeze_everything_but_decoder
      model.namedParameters().forEach((name, p) -> p.requiresGrad_(name.startsWith("decoder.")));
    }
    model.to(null, device);
    shadow.to(null, device);
    discriminator.to(null, device);
    // Created after the freeze: frozen entries are copied each step (the reference's stage-2 EMA
    // quirk).
    ema = new Ema(model, shadow);
    if (initEma != null) {
      load(shadow, initEma);
    }
    model.train(true);
    shadow.eval();
    discriminator.train(true);
    optimizer =
        new AdamW(ParamGroups.reference(model, config.lr(), config.weightDecay()), 0.9, 0.95, 1e-8);
    discriminatorOptimizer =
        new AdamW(
            ParamGroups.reference(discriminator, config.lr(), config.weightDecay()),
            0.9,
            0.95,
            1e-8);
    noise = TrainingNoise.seeded(config.seed() + 1, device);
    if (perceptual == null || !perceptual.isActive()) {
      LOG.log(
          System.Logger.Level.INFO,
          "tokenizer training: perceptual loss off (no LPIPS/ConvNeXt weights given)");
    }
    forward = new DistillationForward(config, model, teacher, perceptual, discriminator);
    schedule = config.schedule();
    trainable = model.parameters().stream().filter(Parameter::requiresGrad).toList();
    discriminatorParams = discriminator.parameters();
    // --- issue 14: rank 0's weights everywhere; gradients averaged per step; global-batch noise
    // ---
    DistributedContext dist = DataParallel.current();
    DistributedDataParallel.broadcastFromRankZero(dist, List.of(model, shadow, discriminator));
    ddp = new DistributedDataParallel(dist, trainable);
    discriminatorDdp = new DistributedDataParallel(dist, discriminatorParams);
    stepNoise = DataParallel.shard(noise);
  }

  /**
   * Stage 1 from scratch.
   *
   * @param config a stage-1 config
   * @param modelConfig the tokenizer with its semantic decoder (e.g. {@code rectok_BB_stage1}),
   *     whose {@code foundationHiddenSize} equals the teacher's feature width
   * @param teacher the frozen feature teacher (borrowed); may be null only with {@code
   *     sem_loss_weight = 0}
   * @param perceptual the perceptual loss (borrowed), or null for off
   * @param device where the models live; batches must be on it
   */
  public static TokenizerTrainer stage1(
      TokenizerTrainingConfig config,
      RecTokConfig modelConfig,
      FeatureTeacher teacher,
      PerceptualLoss perceptual,
      Device device) {
    if (config.stage() != 1) {
      throw new IllegalArgumentException(
          "stage1 needs a stage-1 config, got stage " + config.stage());
    }
    return new TokenizerTrainer(config, modelConfig, teacher, perceptual, device, null, null);
  }

  /**
   * Stage 2: decoder fine-tuning of a stage-1 model ({@code --load_from}: model and EMA). The
   * tokenizer is built without a semantic decoder; {@code sem_decoders.*} of the sources are
   * ignored. The discriminator is fresh.
   *
   * @param config a stage-2 config
   * @param modelConfig the stage-1 model config (its semantic decoder is dropped)
   * @param stage1Model the live stage-1 weights (borrowed; copied)
   * @param stage1Ema the stage-1 EMA weights (borrowed; copied)
   */
  public static TokenizerTrainer decoderFineTuning(
      TokenizerTrainingConfig config,
      RecTokConfig modelConfig,
      Module stage1Model,
      Module stage1Ema,
      PerceptualLoss perceptual,
      Device device) {
    if (config.stage() != 2) {
      throw new IllegalArgumentException(
          "decoderFineTuning needs a stage-2 config, got stage " + config.stage());
    }
    Objects.requireNonNull(stage1Model, "stage1Model");
    Objects.requireNonNull(stage1Ema, "stage1Ema");
    RecTokConfig decft =
        modelConfig.toBuilder().foundationModelType("").foundationHiddenSize(0).build();
    return new TokenizerTrainer(config, decft, null, perceptual, device, stage1Model, stage1Ema);
  }

  private static void load(Module target, Module source) {
    Map<String, Tensor> state = new LinkedHashMap<>();
    source
        .stateDict()
        .forEach(
            (k, v) -> {
              if (!k.startsWith("sem_decoders.")) {
                state.put(k, v);
              }
            });
    try (GradMode g = GradMode.noGrad()) {
      LoadReport r = target.loadStateDict(state, false);
      if (!r.missing().isEmpty()) {
        throw new IllegalArgumentException(
            "stage-1 weights do not fit the tokenizer, missing keys " + r.missing());
      }
    }
  }

  /**
   * Runs the forward passes under {@code torch.autocast} with {@code dtype} (the reference trains
   * with bf16 autocast on CUDA; bf16 also works on the CPU), or in float32 with null. Parameters,
   * gradients, optimizer state and the backward stay float32.
   */
  public void mixedPrecision(DType dtype) {
    if (dtype != null) {
      Autocast.enable(device, dtype).close(); // validates the combination now, not mid-run
    }
    this.mixedPrecision = dtype;
  }

  private Autocast autocast() {
    return mixedPrecision == null ? Autocast.disable() : Autocast.enable(device, mixedPrecision);
  }

  public TokenizerTrainingConfig config() {
    return config;
  }

  /** The live tokenizer (borrowed). */
  public RecTok model() {
    return model;
  }

  /** The EMA tokenizer (borrowed): what is exported and evaluated. */
  public RecTok emaModel() {
    return shadow;
  }

  /** The PatchGAN (borrowed). */
  public PatchGanDiscriminator discriminator() {
    return discriminator;
  }

  /** The generator-side forward (borrowed), e.g. for evaluation or a golden replay. */
  public DistillationForward forward() {
    return forward;
  }

  /**
   * Registers {@code tokenizer}, {@code tokenizer_ema}, {@code discriminator}, the optimizers
   * {@code optimizer} and {@code discriminator_optimizer}, and the generators {@code noise.ratio}
   * and {@code noise.tensors}.
   */
  @Override
  public void register(TrainingCheckpoint checkpoint) {
    checkpoint
        .module("tokenizer", model)
        .module("tokenizer_ema", shadow)
        .module("discriminator", discriminator);
    checkpoint
        .optimizer("optimizer", optimizer)
        .optimizer("discriminator_optimizer", discriminatorOptimizer);
    noise.generators().forEach(checkpoint::generator);
  }

  /**
   * One step; see the class comment. Metrics: {@code loss} and each term of {@link
   * LossTerms#metrics}, {@code lr}, {@code grad_norm} (before clipping), {@code mask_ratio}, and
   * while the GAN is active {@code disc_loss} and {@code disc_grad_norm}.
   */
  @Override
  public Map<String, Double> step(Batch batch, double epoch) {
    if (!(epoch >= 0) || Double.isInfinite(epoch)) {
      throw new IllegalArgumentException("epoch must be finite and >= 0, got " + epoch);
    }
    double lr = schedule.apply(optimizer, epoch);
    schedule.apply(discriminatorOptimizer, epoch);
    boolean gan = Math.floor(epoch) >= config.discriminatorStartEpoch();
    double clip = config.gradClip() > 0 ? config.gradClip() : Double.POSITIVE_INFINITY;
    Map<String, Double> metrics;
    try (Scope s = Scope.open()) {
      model.zeroGrad();
      discriminator.zeroGrad();
      LossTerms terms;
      try (Autocast a = autocast()) {
        terms =
            forward.forward(batch.images(), batch.indices(), stepNoise, gan, ActivationProbe.NONE);
      }
      terms.total().to(DType.FLOAT32).backward();
      ddp.averageGradients();
      double gradNorm = ClipGrad.clipGradNorm(trainable, clip);
      optimizer.step();
      ema.update(config.emaDecay());
      metrics = terms.metrics();
      metrics.put("lr", lr);
      metrics.put("grad_norm", gradNorm);
      if (gan) {
        discriminator.zeroGrad();
        Tensor real = PixelRange.toUnit(batch.images().detach());
        Tensor dLoss;
        try (Autocast a = autocast()) {
          dLoss =
              HingeLoss.discriminator(
                      discriminator.forward(real),
                      discriminator.forward(DistillationForward.reconstruction01(terms)))
                  .to(DType.FLOAT32);
        }
        dLoss.backward();
        discriminatorDdp.averageGradients();
        metrics.put("disc_grad_norm", ClipGrad.clipGradNorm(discriminatorParams, clip));
        discriminatorOptimizer.step();
        metrics.put("disc_loss", dLoss.item());
      }
    }
    return metrics;
  }

  /**
   * Writes the EMA tokenizer as a model file for inference (no semantic decoder; see {@link
   * TokenizerExport}).
   *
   * @param latentMean per-channel latent statistics, or null to omit them (with {@code latentStd})
   */
  public void exportModel(Path file, float[] latentMean, float[] latentStd) throws IOException {
    TokenizerExport.write(file, shadow, latentMean, latentStd);
  }

  @Override
  public void close() {
    ddp.close();
    discriminatorDdp.close();
    optimizer.close();
    discriminatorOptimizer.close();
    noise.close();
    discriminator.close();
    shadow.close();
    model.close();
  }
}
