package dev.rectok.train.generator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.models.dit.DiTConfig;
import java.util.Iterator;
import java.util.Objects;
import java.util.Set;

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
 * <p>Immutable and thread-safe. {@link #toJson()} / {@link #fromJson} round-trip exactly.
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
    DiTConfig model,
    double lr,
    double minLr,
    double schedConstantEpochs,
    double schedEndEpoch,
    double weightDecay,
    double gradClip,
    double emaDecay,
    double labelDropProb,
    int batchSize,
    long seed,
    int epochs) {

  /** AdamW betas and eps of the reference ({@code main_diffusion.py} defaults). */
  public static final double BETA1 = 0.9;

  public static final double BETA2 = 0.95;
  public static final double EPS = 1e-8;

  private static final Set<String> KEYS =
      Set.of(
          "model",
          "lr",
          "min_lr",
          "sched_constant_epochs",
          "sched_end_epoch",
          "weight_decay",
          "grad_clip",
          "ema_decay",
          "label_drop_prob",
          "batch_size",
          "seed",
          "epochs");

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
    Builder b = new Builder(model);
    b.lr = lr;
    b.minLr = minLr;
    b.schedConstantEpochs = schedConstantEpochs;
    b.schedEndEpoch = schedEndEpoch;
    b.weightDecay = weightDecay;
    b.gradClip = gradClip;
    b.emaDecay = emaDecay;
    b.labelDropProb = labelDropProb;
    b.batchSize = batchSize;
    b.seed = seed;
    b.epochs = epochs;
    return b;
  }

  /**
   * The configuration as JSON under the reference's snake_case names; {@code model} holds the
   * constructor kwargs.
   */
  public ObjectNode toJson() {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.set("model", model.toConstructorKwargs());
    o.put("lr", lr).put("min_lr", minLr);
    o.put("sched_constant_epochs", schedConstantEpochs).put("sched_end_epoch", schedEndEpoch);
    o.put("weight_decay", weightDecay).put("grad_clip", gradClip).put("ema_decay", emaDecay);
    o.put("label_drop_prob", labelDropProb)
        .put("batch_size", batchSize)
        .put("seed", seed)
        .put("epochs", epochs);
    return o;
  }

  /**
   * Reads {@link #toJson()}'s form. {@code model} is required; other missing keys take the
   * reference's defaults; an unknown key is an error (it is most likely a typo).
   */
  public static GeneratorTrainingConfig fromJson(JsonNode json) {
    if (json == null || !json.isObject()) {
      throw new IllegalArgumentException(
          "a generator training config must be a JSON object, got " + json);
    }
    for (Iterator<String> it = json.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!KEYS.contains(k)) {
        throw new IllegalArgumentException(
            "unknown generator training key '" + k + "' (known: " + KEYS + ")");
      }
    }
    if (!json.path("model").isObject()) {
      throw new IllegalArgumentException(
          "the generator training config needs 'model' (DiT constructor kwargs)");
    }
    Builder b = builder(DiTConfig.fromConstructorKwargs(json.get("model")));
    b.lr = number(json, "lr", b.lr);
    b.minLr = number(json, "min_lr", b.minLr);
    b.schedConstantEpochs = number(json, "sched_constant_epochs", b.schedConstantEpochs);
    b.schedEndEpoch = number(json, "sched_end_epoch", b.schedEndEpoch);
    b.weightDecay = number(json, "weight_decay", b.weightDecay);
    b.gradClip = number(json, "grad_clip", b.gradClip);
    b.emaDecay = number(json, "ema_decay", b.emaDecay);
    b.labelDropProb = number(json, "label_drop_prob", b.labelDropProb);
    b.batchSize = (int) integer(json, "batch_size", b.batchSize);
    b.seed = integer(json, "seed", b.seed);
    b.epochs = (int) integer(json, "epochs", b.epochs);
    return b.build();
  }

  private static double number(JsonNode json, String key, double dflt) {
    JsonNode v = json.get(key);
    if (v == null) {
      return dflt;
    }
    if (!v.isNumber()) {
      throw new IllegalArgumentException("'" + key + "' must be a number, got " + v);
    }
    return v.doubleValue();
  }

  private static long integer(JsonNode json, String key, long dflt) {
    JsonNode v = json.get(key);
    if (v == null) {
      return dflt;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new IllegalArgumentException("'" + key + "' must be an integer, got " + v);
    }
    long l = v.longValue();
    if (!key.equals("seed") && (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE)) {
      throw new IllegalArgumentException("'" + key + "' is out of range: " + l);
    }
    return l;
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
