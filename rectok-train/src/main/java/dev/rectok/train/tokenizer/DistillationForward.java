package dev.rectok.train.tokenizer;

import dev.rectok.api.Device;
import dev.rectok.image.PixelRange;
import dev.rectok.models.TimeShift;
import dev.rectok.models.tokenizer.ActivationProbe;
import dev.rectok.models.tokenizer.Encoder;
import dev.rectok.models.tokenizer.Posterior;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.models.tokenizer.RecTokConfig;
import dev.rectok.torch.F;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.train.loss.FeatureTeacher;
import dev.rectok.train.loss.HingeLoss;
import dev.rectok.train.loss.PatchGanDiscriminator;
import dev.rectok.train.loss.PerceptualLoss;
import java.util.Arrays;
import java.util.Objects;

/**
 * The generator side of one tokenizer training step, as {@code RecTok.forward} and {@code
 * ReconstructionLoss._forward_generator} compute it (docs/training.md#stage1-step):
 *
 * <ol>
 *   <li><b>MAE masking</b> (stage 1): r = max(0, U(mask_ratio_min, mask_ratio)); the encoder sees
 *       the {@code ceil(L·(1 − r))} tokens first in {@code argsort(noise)}.
 *   <li><b>Posterior sample</b>: z = mean + std·ε (also in stage 2).
 *   <li><b>Flow semantic distillation noise</b> (γ > 0): τ = s·u / (1 + (s − 1)·u) with s = {@link
 *       #timestepShift}, z_τ = (1 − τ)·z + τ·γ·ε.
 *   <li><b>Pixel decoder</b> on z_τ with mask tokens at the dropped positions.
 *   <li><b>Reconstruction-alignment distillation</b> (stage 1): the semantic decoder predicts the
 *       frozen teacher's patch features at <em>all</em> L positions ({@code
 *       sem_target="rec+align"}).
 *   <li><b>Losses</b> on [0, 1] images: MSE + perceptual_weight·perceptual + kl_loss_weight·KL +
 *       sem_loss_weight·(1 − cos) + [GAN active]·discriminator_weight·(−mean D(x̂)).
 * </ol>
 *
 * <p>The random draws come from a {@link TrainingNoise} in the reference's order. Autograd follows
 * the current {@link GradMode}; the teacher always runs without it.
 *
 * <p><b>Ownership and threading.</b> Borrows the model, teacher, perceptual loss and discriminator
 * (closes none). The returned {@link LossTerms} owns its tensors. Not thread-safe (the
 * discriminator's BatchNorm updates its statistics).
 */
public final class DistillationForward {
  private final TokenizerTrainingConfig config;
  private final RecTok model;
  private final FeatureTeacher teacher;
  private final PerceptualLoss perceptual;
  private final PatchGanDiscriminator discriminator;
  private final double shift;

  /**
   * @param config loss weights, masking and noise settings
   * @param model the tokenizer; stage 1 with a semantic loss needs its semantic decoder
   * @param teacher the frozen feature teacher; required when stage 1 has {@code sem_loss_weight >
   *     0}
   * @param perceptual the perceptual loss, or null (term off)
   * @param discriminator the PatchGAN, or null (GAN term never active)
   */
  public DistillationForward(
      TokenizerTrainingConfig config,
      RecTok model,
      FeatureTeacher teacher,
      PerceptualLoss perceptual,
      PatchGanDiscriminator discriminator) {
    this.config = Objects.requireNonNull(config, "config");
    this.model = Objects.requireNonNull(model, "model");
    this.teacher = teacher;
    this.perceptual = perceptual;
    this.discriminator = discriminator;
    if (usesSemantic()) {
      if (model.semanticDecoder() == null) {
        throw new IllegalArgumentException(
            "stage 1 with sem_loss_weight "
                + config.semLossWeight()
                + " needs a model with a semantic decoder (foundation_model_type, e.g. \"dinov3\")");
      }
      if (teacher == null) {
        throw new IllegalArgumentException(
            "stage 1 with sem_loss_weight " + config.semLossWeight() + " needs a feature teacher");
      }
    }
    this.shift = timestepShift(model.config());
  }

  /**
   * The tokenizer's {@code timestep_shift} s = sqrt(h·w·C / 4096) (√8 for {@code rectok_BB}): the
   * resolution shift the generator's flow uses for the same latent, so that z_τ is a sample of the
   * generator's forward flow.
   */
  public static double timestepShift(RecTokConfig c) {
    return TimeShift.resolution(c.tokenChannels(), c.gridSize(), c.gridSize());
  }

  /** Whether this stage masks the encoder input (stage 1; with r = 0 the shuffle still runs). */
  public boolean usesMasking() {
    return config.stage() == 1;
  }

  /** Whether the semantic (RAD) loss is computed. */
  public boolean usesSemantic() {
    return config.stage() == 1 && config.semLossWeight() > 0;
  }

  /**
   * One forward.
   *
   * @param images (B, 3, H, W) in [−1, 1], H = W = the model's {@code imgSize}
   * @param sampleIndices dataset indices for the teacher (length B); may be null when the teacher
   *     does not need them
   * @param noise the step's random draws
   * @param ganActive whether the generator-side GAN term is added (epoch ≥ {@code
   *     discriminator_start_epoch}); needs the discriminator
   * @param probe receives {@code decoder.*} and {@code sem_decoder.*} activations
   */
  public LossTerms forward(
      Tensor images,
      long[] sampleIndices,
      TrainingNoise noise,
      boolean ganActive,
      ActivationProbe probe) {
    Objects.requireNonNull(noise, "noise");
    ActivationProbe pr = probe == null ? ActivationProbe.NONE : probe;
    RecTokConfig mc = model.config();
    long[] shape = images.shape();
    if (shape.length != 4
        || shape[1] != 3
        || shape[2] != mc.imgSize()
        || shape[3] != mc.imgSize()) {
      throw new IllegalArgumentException(
          "images must be (B, 3, "
              + mc.imgSize()
              + ", "
              + mc.imgSize()
              + "), got "
              + Arrays.toString(shape));
    }
    if (sampleIndices != null && sampleIndices.length != shape[0]) {
      throw new IllegalArgumentException(
          shape[0] + " images but " + sampleIndices.length + " sample indices");
    }
    if (ganActive && discriminator == null) {
      throw new IllegalArgumentException("the GAN term is active but no discriminator was given");
    }
    long b = shape[0];
    int seqLen = mc.seqLen();
    Device dev = images.device();
    try (Scope s = Scope.open()) {
      // 1. encoder, with MAE masking in stage 1
      double ratio = 0;
      int lenKeep = seqLen;
      Tensor z;
      Tensor mask = null;
      Tensor idsShuffle = null;
      Tensor idsRestore = null;
      Tensor idsKeep = null;
      if (usesMasking()) {
        ratio = Math.max(0.0, noise.maskRatio(config.maskRatioMin(), config.maskRatio()));
        lenKeep = (int) Math.ceil(seqLen * (1 - ratio));
        Encoder.MaskedOutput m =
            model.encoder().forwardMasked(images, noise.maskNoise(b, seqLen, dev), lenKeep);
        z = m.z();
        mask = m.mask();
        idsRestore = m.idsRestore();
        idsKeep = m.idsKeep();
        idsShuffle = idsRestore.argsort(1, false); // the inverse of the inverse permutation
      } else {
        z = model.encoder().forward(images);
      }
      // 2. posterior sample (training always samples)
      Posterior post = mc.disableKl() ? null : Posterior.of(z);
      Tensor zSampled =
          post == null
              ? z.alias()
              : post.mean().add(post.std().mul(noise.posteriorEps(post.mean().shape(), dev)));
      // 3. flow semantic distillation: z_tau = (1 - tau) z + tau * gamma * eps
      Tensor tau = null;
      Tensor zNoisy;
      if (config.gamma() > 0) {
        Tensor u = noise.tauUniform(b, dev);
        tau =
            "shift".equals(config.noiseSchedule())
                ? u.mul(shift).div(u.mul(shift - 1).add(1.0))
                : u.alias();
        zNoisy =
            tau.rsub(1.0)
                .mul(zSampled)
                .add(tau.mul(config.gamma()).mul(noise.latentEps(zSampled.shape(), dev)));
      } else {
        zNoisy = zSampled.alias();
      }
      // 4. pixel decoder (mask tokens at the dropped positions)
      Tensor decoded =
          model.decoderModule().forward(zNoisy, idsRestore, (n, t) -> pr.record("decoder." + n, t));
      // 5. semantic decoder towards the teacher's features at all positions
      Tensor semPred = null;
      Tensor semTarget = null;
      if (usesSemantic()) {
        semPred =
            model
                .semanticDecoder()
                .forward(zNoisy, idsRestore, (n, t) -> pr.record("sem_decoder." + n, t));
        try (GradMode g = GradMode.noGrad()) {
          semTarget = teacher.features(images, sampleIndices).detach();
        }
        if (!Arrays.equals(semTarget.shape(), semPred.shape())) {
          throw new IllegalArgumentException(
              "teacher features "
                  + Arrays.toString(semTarget.shape())
                  + " do not match the semantic decoder's output "
                  + Arrays.toString(semPred.shape())
                  + " (tokens and foundationHiddenSize must agree)");
        }
      }
      // 6. losses on [0, 1] images
      Tensor x01 = PixelRange.toUnit(images);
      Tensor rec01 = PixelRange.toUnit(decoded);
      Tensor pixel = F.mseLoss(x01, rec01);
      Tensor total = pixel;
      Tensor percep = null;
      if (perceptual != null && perceptual.isActive()) {
        percep = perceptual.forward(rec01, x01);
        total = total.add(percep.mul(config.perceptualWeight()));
      }
      Tensor kl = null;
      Tensor klWeighted = null;
      if (post != null) {
        kl = post.kl().sum().div(b);
        klWeighted = kl.mul(config.klLossWeight());
        if (config.klLossWeight() > 0) {
          total = total.add(klWeighted);
        }
      }
      Tensor cosine = null;
      Tensor semWeighted = null;
      if (semPred != null) {
        cosine = F.cosineSimilarity(semPred, semTarget, -1, 1e-8).rsub(1.0).mean();
        semWeighted = cosine.mul(config.semLossWeight());
        total = total.add(semWeighted);
      }
      Tensor gan = null;
      if (ganActive) {
        gan = HingeLoss.generator(discriminator.forward(rec01));
        total = total.add(gan.mul(config.discriminatorWeight()));
      }
      if (post != null) {
        s.keep(post.parameters());
        s.keep(post.mean());
        s.keep(post.logvar());
        s.keep(post.std());
        s.keep(post.var());
      }
      return new LossTerms(
          ratio,
          lenKeep,
          keep(s, mask),
          keep(s, idsShuffle),
          keep(s, idsRestore),
          keep(s, idsKeep),
          s.keep(z),
          post,
          s.keep(zSampled),
          keep(s, tau),
          s.keep(zNoisy),
          s.keep(decoded),
          keep(s, semPred),
          keep(s, semTarget),
          s.keep(pixel),
          keep(s, percep),
          keep(s, kl),
          keep(s, klWeighted),
          keep(s, cosine),
          keep(s, semWeighted),
          keep(s, gan),
          s.keep(total == pixel ? pixel.alias() : total));
    }
  }

  private static Tensor keep(Scope s, Tensor t) {
    return t == null ? null : s.keep(t);
  }

  /** The [0, 1] images the discriminator sees for a forward's reconstruction, detached. */
  static Tensor reconstruction01(LossTerms terms) {
    try (Scope s = Scope.open()) {
      return s.keep(PixelRange.toUnit(terms.decoded().detach()));
    }
  }
}
