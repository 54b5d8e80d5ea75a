package dev.rectok.train.generator;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.models.ConfigJson;
import dev.rectok.models.dit.DiTConfig;
import java.io.IOException;
import java.util.Objects;

/**
 * Hyper-parameters of DiT^DH flow-matching training (docs/training.md#generator-recipe, {@code
 * main_diffusion.py}), under the reference's argument names in camelCase. The {@linkplain #builder
 * builder's} defaults are the release's: AdamW (0.9, 0.95) with {@code lr} 2e−4, {@code
 * weight_decay} 0, the {@code --ditdh_sched} schedule (constant until epoch {@link
 * #schedConstantEpochs} = 40, then linear to {@code min_lr} 2e−5 at epoch {@link #schedEndEpoch} =
 * 800), {@code grad_clip} 1.0, EMA decay 0.9995, label dropout 0.1 (the {@code LabelEmbedder}
 * default), 800 epochs, batch 64 (per GPU in the release script). The two schedule epochs are
 * configurable so that short runs still decay.
 *
 * <p>The AutoGuidance companion (DiT^DH-S, docs/training.md#generator-recipe) is the same recipe
 * with a smaller {@link #model} and 30 epochs: {@code
 * GeneratorTrainingConfig.builder(DiTConfig.preset("DiTDDT_s")).epochs(30).build()}.
 *
 * <p>Immutable and thread-safe. The JSON form is declared once, by the components' {@code
 * JsonProperty} names; {@link #toJson()} / {@link #fromJson} round-trip exactly.
 *
 * @param model the DiT^DH architecture to train
 * @param lr peak learning rate
 * @param minLr learning rate at and after {@link #schedEndEpoch}
 * @param schedConstantEpochs the learning rate is {@code lr} while the fractional epoch is at most
 *     this
 * @param schedEndEpoch the epoch at which the linear decay reaches {@code minLr}
 * @param weightDecay AdamW weight decay (reference groups: none for norms, biases, embeddings)
 * @param gradClip max global gradient 2-norm
 * @param emaDecay EMA decay per optimizer step
 * @param labelDropProb probability of replacing a label by the null class {@code num_classes}
 * @param batchSize samples per step
 * @param seed seeds the weight init and the trainer's generators (labels, flow noise, latents)
 * @param epochs training length in epochs
 */
public record GeneratorTrainingConfig(
    @JsonProperty("model") @JsonDeserialize(using = ModelKwargs.class) DiTConfig model,
    @JsonProperty("lr") double lr,
    @JsonProperty("min_lr") double minLr,
    @JsonProperty("sched_constant_epochs") double schedConstantEpochs,
    @JsonProperty("sched_end_epoch") double schedEndEpoch,
    @JsonProperty("weight_decay") double weightDecay,
    @JsonProperty("grad_clip") double gradClip,
    @JsonProperty("ema_decay") double emaDecay,
    @JsonProperty("label_drop_prob") double labelDropProb,
    @JsonProperty("batch_size") int batchSize,
    @JsonProperty("seed") long seed,
    @JsonProperty("epochs") int epochs) {

  /** AdamW betas and eps of the reference ({@code main_diffusion.py} defaults). */
  public static final double BETA1 = 0.9;

  public static final double BETA2 = 0.95;
  public static final double EPS = 1e-8;

  public GeneratorTrainingConfig {
    Objects.requireNonNull(model, "model");
    positive("lr", lr);
    if (!(minLr >= 0 && minLr <= lr)) {
      throw new IllegalArgumentException("min_lr must be in [0, lr], got " + minLr);
    }
    if (!(schedConstantEpochs >= 0 && schedEndEpoch > schedConstantEpochs)) {
      throw new IllegalArgumentException(
          "need 0 <= sched_constant_epochs < sched_end_epoch, got "
              + schedConstantEpochs
              + ", "
              + schedEndEpoch);
    }
    if (!(weightDecay >= 0)) {
      throw new IllegalArgumentException("weight_decay must be >= 0, got " + weightDecay);
    }
    positive("grad_clip", gradClip);
    if (!(emaDecay >= 0 && emaDecay <= 1)) {
      throw new IllegalArgumentException("ema_decay must be in [0, 1], got " + emaDecay);
    }
    if (!(labelDropProb >= 0 && labelDropProb <= 1)) {
      throw new IllegalArgumentException("label_drop_prob must be in [0, 1], got " + labelDropProb);
    }
    if (labelDropProb > 0 && model.labelDropoutProb() <= 0) {
      throw new IllegalArgumentException(
          "label_drop_prob "
              + labelDropProb
              + " needs a null class, but the model's "
              + "label_dropout_prob is 0 so its label table has no row "
              + model.numClasses());
    }
    if (batchSize <= 0 || epochs <= 0) {
      throw new IllegalArgumentException(
          "batch_size and epochs must be positive, got " + batchSize + ", " + epochs);
    }
  }

  private static void positive(String name, double v) {
    if (!(v > 0) || Double.isInfinite(v)) {
      throw new IllegalArgumentException(name + " must be positive and finite, got " + v);
    }
  }

  /**
   * A builder with the reference's values (docs/training.md#generator-recipe) for {@code model}.
   */
  public static Builder builder(DiTConfig model) {
    return new Builder(Objects.requireNonNull(model, "model"));
  }

  /** A builder starting from this configuration. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * The configuration as JSON under the reference's snake_case names (the components' {@code
   * JsonProperty} names, through {@link ConfigJson}); {@code model} holds the constructor kwargs.
   */
  public ObjectNode toJson() {
    return ConfigJson.write(this);
  }

  /**
   * Reads {@link #toJson()}'s form. {@code model} is required (its missing kwargs take the
   * reference constructor's defaults); other missing keys take the reference's training defaults;
   * an unknown key is refused with its path (it is most likely a typo).
   */
  public static GeneratorTrainingConfig fromJson(JsonNode json) {
    if (json != null && json.isObject() && json.get("model") == null) {
      throw new IllegalArgumentException(
          "the generator training config needs 'model' (DiT constructor kwargs)");
    }
    return ConfigJson.read(
        json, GeneratorTrainingConfig.class, builder(DiTConfig.builder().build()).build(), "");
  }

  /**
   * Reads {@code model} as DiT constructor kwargs over the reference's defaults, with errors named
   * under {@code model.}. Stateless; Jackson instantiates it from the annotation.
   */
  public static final class ModelKwargs extends JsonDeserializer<DiTConfig> {
    /** Jackson instantiates it. */
    public ModelKwargs() {}

    @Override
    public DiTConfig deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      JsonNode kwargs = p.readValueAsTree();
      return ConfigJson.read(kwargs, DiTConfig.class, DiTConfig.builder().build(), "model");
    }
  }

  /** Mutable builder; not thread-safe. Starts from docs/training.md#generator-recipe's values. */
  public static final class Builder {
    private final DiTConfig model;
    private double lr = 2e-4;
    private double minLr = 2e-5;
    private double schedConstantEpochs = 40;
    private double schedEndEpoch = 800;
    private double weightDecay = 0.0;
    private double gradClip = 1.0;
    private double emaDecay = 0.9995;
    private double labelDropProb = 0.1;
    private int batchSize = 64;
    private long seed = 0;
    private int epochs = 800;

    private Builder(DiTConfig model) {
      this.model = model;
    }

    private Builder(GeneratorTrainingConfig c) {
      model = c.model;
      lr = c.lr;
      minLr = c.minLr;
      schedConstantEpochs = c.schedConstantEpochs;
      schedEndEpoch = c.schedEndEpoch;
      weightDecay = c.weightDecay;
      gradClip = c.gradClip;
      emaDecay = c.emaDecay;
      labelDropProb = c.labelDropProb;
      batchSize = c.batchSize;
      seed = c.seed;
      epochs = c.epochs;
    }

    public Builder lr(double v) {
      lr = v;
      return this;
    }

    public Builder minLr(double v) {
      minLr = v;
      return this;
    }

    /**
     * The {@code --ditdh_sched} epochs: constant until {@code constantEpochs}, {@code minLr} from
     * {@code endEpoch}.
     */
    public Builder schedule(double constantEpochs, double endEpoch) {
      schedConstantEpochs = constantEpochs;
      schedEndEpoch = endEpoch;
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

    public Builder labelDropProb(double v) {
      labelDropProb = v;
      return this;
    }

    public Builder batchSize(int v) {
      batchSize = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder epochs(int v) {
      epochs = v;
      return this;
    }

    public GeneratorTrainingConfig build() {
      return new GeneratorTrainingConfig(
          model,
          lr,
          minLr,
          schedConstantEpochs,
          schedEndEpoch,
          weightDecay,
          gradClip,
          emaDecay,
          labelDropProb,
          batchSize,
          seed,
          epochs);
    }
  }
}
