package dev.rectok.train.tokenizer;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.models.ConfigJson;
import dev.rectok.torch.optim.LrSchedule;
import java.io.IOException;
import java.util.Set;

/**
 * Settings of the tokenizer trainer under the reference's argument names
 * (docs/training.md#loss-terms, #optimizer, #stage1, #stage2). The defaults are the reference's
 * <em>effective</em> values, quirks included: the GAN weight is 0.1 (the scripts' 0.5 is never
 * forwarded) and there is no adaptive GAN weight. {@link #builder()} starts from stage 1 ({@code
 * run_train_tokenizer.sh}), {@link #stage2()} from decoder fine-tuning ({@code
 * run_decoder_finetune_tokenizer.sh}).
 *
 * <p>{@code batch_size} is the global batch of one optimizer step. {@code lr} is absolute; the
 * builder's {@link Builder#blr} derives it as {@code blr · batch_size / 256} at build time, as the
 * reference does when {@code --lr} is not given. The warmup lasts {@code int(warmup_rate · epochs)}
 * epochs ({@link #warmupEpochs}).
 *
 * <p>JSON ({@link #toJson}, {@link #fromJson}) uses the snake_case names declared once on the
 * components ({@code JsonProperty}, read and written through {@link ConfigJson}); unknown keys are
 * refused with their path, missing keys keep the stage's defaults. Immutable and thread-safe.
 *
 * @param stage 1 (flow semantic distillation + reconstruction) or 2 (decoder fine-tuning)
 * @param epochs {@code epochs}: 200 (stage 1), 100 (stage 2)
 * @param batchSize {@code batch_size}: global batch, 1024 as in the authors' runs
 * @param lr {@code lr}: absolute peak learning rate (4e-4 stage 1, 2e-4 stage 2 at batch 1024)
 * @param minLr {@code min_lr}: end of the cosine, 0
 * @param warmupRate {@code warmup_rate}: 0.25 (stage 1), 0.05 (stage 2)
 * @param weightDecay {@code weight_decay}: 1e-4, on the reference's decay group only
 * @param gradClip {@code grad_clip}: global-norm clip, 3.0; 0 disables clipping
 * @param emaDecay {@code ema_decay}: 0.999
 * @param maskRatioMin {@code mask_ratio_min}: −0.1; r = max(0, U(mask_ratio_min, mask_ratio))
 * @param maskRatio {@code mask_ratio}: 0.4 (stage 1), 0 (stage 2: no masking)
 * @param gamma {@code gamma}: latent-noise scale, 1.0 (stage 1), 0 (stage 2: no noise)
 * @param noiseSchedule {@code noise_schedule}: {@code "shift"} (τ = s·u/(1 + (s − 1)·u)) or {@code
 *     "uniform"} (τ = u)
 * @param klLossWeight {@code kl_loss_weight}: 1e-6 (stage 1), 0 (stage 2)
 * @param semLossWeight {@code sem_loss_weight}: 1.0 (stage 1), 0 (stage 2: no teacher)
 * @param perceptualWeight {@code perceptual_weight}: 1.0 (applies when a perceptual loss is given)
 * @param discriminatorStartEpoch {@code discriminator_start_epoch}: 100 (stage 1), 0 (stage 2)
 * @param discriminatorWeight {@code discriminator_weight}: the effective 0.1, constant
 * @param discriminatorNdf {@code discriminator_ndf}: PatchGAN width, 64
 * @param discriminatorLayers {@code discriminator_layers}: PatchGAN depth, 3
 * @param seed {@code seed}: weight initialisation and every random draw of training
 */
public record TokenizerTrainingConfig(
    @JsonProperty("stage") int stage,
    @JsonProperty("epochs") int epochs,
    @JsonProperty("batch_size") int batchSize,
    @JsonProperty("lr") double lr,
    @JsonProperty("min_lr") double minLr,
    @JsonProperty("warmup_rate") double warmupRate,
    @JsonProperty("weight_decay") double weightDecay,
    @JsonProperty("grad_clip") double gradClip,
    @JsonProperty("ema_decay") double emaDecay,
    @JsonProperty("mask_ratio_min") double maskRatioMin,
    @JsonProperty("mask_ratio") double maskRatio,
    @JsonProperty("gamma") double gamma,
    @JsonProperty("noise_schedule") String noiseSchedule,
    @JsonProperty("kl_loss_weight") double klLossWeight,
    @JsonProperty("sem_loss_weight") double semLossWeight,
    @JsonProperty("perceptual_weight") double perceptualWeight,
    @JsonProperty("discriminator_start_epoch") int discriminatorStartEpoch,
    @JsonProperty("discriminator_weight") double discriminatorWeight,
    @JsonProperty("discriminator_ndf") int discriminatorNdf,
    @JsonProperty("discriminator_layers") int discriminatorLayers,
    @JsonProperty("seed") long seed) {

  /** Noise schedules of {@code RecTok.encode} this trainer supports. */
  public static final Set<String> NOISE_SCHEDULES = Set.of("shift", "uniform");

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The stage-1 defaults' base learning rate, and stage 2's ({@link Builder#blr}). */
  private static final double BLR_STAGE1 = 1e-4;

  private static final double BLR_STAGE2 = 5e-5;

  public TokenizerTrainingConfig {
    require(stage == 1 || stage == 2, "stage must be 1 or 2, got " + stage);
    require(epochs > 0, "epochs must be positive, got " + epochs);
    require(batchSize > 0, "batch_size must be positive, got " + batchSize);
    require(lr > 0 && Double.isFinite(lr), "lr must be positive and finite, got " + lr);
    require(minLr >= 0 && minLr <= lr, "min_lr must be in [0, lr = " + lr + "], got " + minLr);
    require(warmupRate >= 0 && warmupRate < 1, "warmup_rate must be in [0, 1), got " + warmupRate);
    require(
        weightDecay >= 0 && Double.isFinite(weightDecay),
        "weight_decay must be >= 0, got " + weightDecay);
    require(
        gradClip >= 0 && !Double.isNaN(gradClip),
        "grad_clip must be >= 0 (0: no clipping), got " + gradClip);
    require(emaDecay >= 0 && emaDecay <= 1, "ema_decay must be in [0, 1], got " + emaDecay);
    require(maskRatio >= 0 && maskRatio < 1, "mask_ratio must be in [0, 1), got " + maskRatio);
    require(
        maskRatioMin <= maskRatio && maskRatioMin > -1,
        "mask_ratio_min must be in (-1, mask_ratio = " + maskRatio + "], got " + maskRatioMin);
    require(gamma >= 0 && Double.isFinite(gamma), "gamma must be >= 0, got " + gamma);
    require(
        noiseSchedule != null && NOISE_SCHEDULES.contains(noiseSchedule),
        "noise_schedule must be one of " + NOISE_SCHEDULES + ", got " + noiseSchedule);
    require(klLossWeight >= 0, "kl_loss_weight must be >= 0, got " + klLossWeight);
    require(semLossWeight >= 0, "sem_loss_weight must be >= 0, got " + semLossWeight);
    require(perceptualWeight >= 0, "perceptual_weight must be >= 0, got " + perceptualWeight);
    require(
        discriminatorStartEpoch >= 0,
        "discriminator_start_epoch must be >= 0, got " + discriminatorStartEpoch);
    require(
        discriminatorWeight >= 0, "discriminator_weight must be >= 0, got " + discriminatorWeight);
    require(
        discriminatorNdf > 0 && discriminatorLayers > 0,
        "discriminator_ndf and discriminator_layers must be positive, got "
            + discriminatorNdf
            + ", "
            + discriminatorLayers);
    if (stage == 2) {
      require(
          maskRatio == 0 && gamma == 0,
          "stage 2 (decoder fine-tuning) uses no masking and no latent noise: mask_ratio and gamma must be 0, got "
              + maskRatio
              + ", "
              + gamma);
      require(
          semLossWeight == 0,
          "stage 2 has no semantic decoder or teacher: sem_loss_weight must be 0, got "
              + semLossWeight);
    }
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /** Linear-warmup epochs: {@code int(warmup_rate · epochs)}, as the reference truncates. */
  public int warmupEpochs() {
    return (int) (warmupRate * epochs);
  }

  /**
   * The per-step learning rate of both optimizers: warmup to {@link #lr}, half cosine to {@link
   * #minLr}.
   */
  public LrSchedule schedule() {
    return LrSchedule.warmupCosine(lr, minLr, warmupEpochs(), epochs);
  }

  /** {@code lr = blr · batch / 256}. */
  public static double lrFromBlr(double blr, int batchSize) {
    return blr * batchSize / 256.0;
  }

  /** Stage-1 defaults ({@code run_train_tokenizer.sh}, docs/training.md#stage1). */
  public static Builder builder() {
    return new Builder();
  }

  /** Stage-2 defaults ({@code run_decoder_finetune_tokenizer.sh}, docs/training.md#stage2). */
  public static Builder stage2() {
    Builder b = new Builder();
    b.stage = 2;
    b.epochs = 100;
    b.blr = BLR_STAGE2;
    b.warmupRate = 0.05;
    b.maskRatioMin = 0.0;
    b.maskRatio = 0.0;
    b.gamma = 0.0;
    b.klLossWeight = 0.0;
    b.semLossWeight = 0.0;
    b.discriminatorStartEpoch = 0;
    return b;
  }

  /** A builder starting from this config (its absolute lr). */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * The config as a JSON object with the reference's snake_case names (the components' {@code
   * JsonProperty} names, through {@link ConfigJson}).
   */
  public ObjectNode toJson() {
    return ConfigJson.write(this);
  }

  /** The JSON text of {@link #toJson}. */
  public String toJsonString() {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJson());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Reads a config: {@code stage} (default 1) picks the defaults, the other keys override them.
   * Besides {@code lr}, a {@code blr} key is accepted (lr = blr · batch_size / 256); without
   * either, lr is the stage's default blr · batch_size / 256. Giving both is refused.
   *
   * @throws IllegalArgumentException for an unknown key (named), a value of the wrong type or an
   *     invalid setting
   */
  public static TokenizerTrainingConfig fromJson(JsonNode node) {
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException(
          "tokenizer training config must be a JSON object, got " + node);
    }
    ObjectNode given = node.deepCopy();
    JsonNode blr = given.remove("blr");
    TokenizerTrainingConfig defaults =
        (given.path("stage").asInt(1) == 2 ? stage2() : builder()).build();
    if (blr != null || given.get("lr") == null) {
      if (blr != null && given.get("lr") != null) {
        throw new IllegalArgumentException("give lr or blr, not both");
      }
      if (blr != null && !blr.isNumber()) {
        throw new IllegalArgumentException("'blr' must be a number, got " + blr);
      }
      JsonNode batch = given.path("batch_size");
      int batchSize = batch.isInt() ? batch.intValue() : defaults.batchSize();
      double base =
          blr != null ? blr.doubleValue() : defaults.stage() == 2 ? BLR_STAGE2 : BLR_STAGE1;
      given.put("lr", lrFromBlr(base, batchSize));
    }
    return ConfigJson.read(given, TokenizerTrainingConfig.class, defaults, "");
  }

  /** {@link #fromJson(JsonNode)} from text. */
  public static TokenizerTrainingConfig fromJson(String text) {
    try {
      return fromJson(JSON.readTree(text));
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "tokenizer training config is not valid JSON: " + e.getMessage(), e);
    }
  }

  /**
   * Mutable builder; not thread-safe. Unless {@link #lr} is set, the lr is {@code blr · batchSize /
   * 256} with blr 1e-4 (stage 1) or 5e-5 (stage 2).
   */
  public static final class Builder {
    private int stage = 1;
    private int epochs = 200;
    private int batchSize = 1024;
    private Double lr;
    private double blr = BLR_STAGE1;
    private double minLr = 0.0;
    private double warmupRate = 0.25;
    private double weightDecay = 1e-4;
    private double gradClip = 3.0;
    private double emaDecay = 0.999;
    private double maskRatioMin = -0.1;
    private double maskRatio = 0.4;
    private double gamma = 1.0;
    private String noiseSchedule = "shift";
    private double klLossWeight = 1e-6;
    private double semLossWeight = 1.0;
    private double perceptualWeight = 1.0;
    private int discriminatorStartEpoch = 100;
    private double discriminatorWeight = 0.1;
    private int discriminatorNdf = 64;
    private int discriminatorLayers = 3;
    private long seed = 0;

    private Builder() {}

    private Builder(TokenizerTrainingConfig c) {
      stage = c.stage;
      epochs = c.epochs;
      batchSize = c.batchSize;
      lr = c.lr;
      minLr = c.minLr;
      warmupRate = c.warmupRate;
      weightDecay = c.weightDecay;
      gradClip = c.gradClip;
      emaDecay = c.emaDecay;
      maskRatioMin = c.maskRatioMin;
      maskRatio = c.maskRatio;
      gamma = c.gamma;
      noiseSchedule = c.noiseSchedule;
      klLossWeight = c.klLossWeight;
      semLossWeight = c.semLossWeight;
      perceptualWeight = c.perceptualWeight;
      discriminatorStartEpoch = c.discriminatorStartEpoch;
      discriminatorWeight = c.discriminatorWeight;
      discriminatorNdf = c.discriminatorNdf;
      discriminatorLayers = c.discriminatorLayers;
      seed = c.seed;
    }

    public Builder epochs(int v) {
      epochs = v;
      return this;
    }

    public Builder batchSize(int v) {
      batchSize = v;
      return this;
    }

    /** Absolute learning rate (overrides {@link #blr}). */
    public Builder lr(double v) {
      lr = v;
      return this;
    }

    /** Base learning rate: lr = blr · batchSize / 256 unless {@link #lr} is set. */
    public Builder blr(double v) {
      blr = v;
      lr = null;
      return this;
    }

    public Builder minLr(double v) {
      minLr = v;
      return this;
    }

    public Builder warmupRate(double v) {
      warmupRate = v;
      return this;
    }

    public Builder weightDecay(double v) {
      weightDecay = v;
      return this;
    }

    public Builder gradClip(double v) {
      gradClip = v;
      return this;
    }

    public Builder emaDecay(double v) {
      emaDecay = v;
      return this;
    }

    public Builder maskRatioMin(double v) {
      maskRatioMin = v;
      return this;
    }

    public Builder maskRatio(double v) {
      maskRatio = v;
      return this;
    }

    public Builder gamma(double v) {
      gamma = v;
      return this;
    }

    public Builder noiseSchedule(String v) {
      noiseSchedule = v;
      return this;
    }

    public Builder klLossWeight(double v) {
      klLossWeight = v;
      return this;
    }

    public Builder semLossWeight(double v) {
      semLossWeight = v;
      return this;
    }

    public Builder perceptualWeight(double v) {
      perceptualWeight = v;
      return this;
    }

    public Builder discriminatorStartEpoch(int v) {
      discriminatorStartEpoch = v;
      return this;
    }

    public Builder discriminatorWeight(double v) {
      discriminatorWeight = v;
      return this;
    }

    public Builder discriminatorNdf(int v) {
      discriminatorNdf = v;
      return this;
    }

    public Builder discriminatorLayers(int v) {
      discriminatorLayers = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public TokenizerTrainingConfig build() {
      double effectiveLr = lr != null ? lr : lrFromBlr(blr, batchSize);
      return new TokenizerTrainingConfig(
          stage,
          epochs,
          batchSize,
          effectiveLr,
          minLr,
          warmupRate,
          weightDecay,
          gradClip,
          emaDecay,
          maskRatioMin,
          maskRatio,
          gamma,
          noiseSchedule,
          klLossWeight,
          semLossWeight,
          perceptualWeight,
          discriminatorStartEpoch,
          discriminatorWeight,
          discriminatorNdf,
          discriminatorLayers,
          seed);
    }
  }
}
