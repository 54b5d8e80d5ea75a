package dev.rectok.api;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Everything a {@link FlowDistiller} needs. Names in {@code model} and {@code training} are the
 * reference's config names (for example {@code token_channels}, {@code vit_enc_model_size}; {@code
 * epochs}, {@code batch_size}, {@code blr}, {@code mask_ratio}, {@code gamma}, {@code
 * sem_loss_weight}, {@code discriminator_start_epoch}), so a reference run maps 1:1. Immutable;
 * thread-safe.
 *
 * @param runDirectory where config, metrics, checkpoints and samples go (created if missing)
 * @param data a Fashion-MNIST IDX directory, an image folder (one sub-folder per class) or a file
 *     list
 * @param teacher the frozen teacher's model file, or a directory of precomputed feature shards;
 *     null only for stage 2
 * @param stage 1 (flow distillation) or 2 (decoder fine-tuning)
 * @param initFrom the stage-1 checkpoint or model file stage 2 starts from; null for stage 1
 * @param model tokenizer constructor arguments (reference names) overriding the preset
 * @param training training config values (reference names) overriding the stage's defaults
 * @param device where to train ({@code cpu}, {@code cuda:0})
 */
public record FlowDistillerSpec(
    Path runDirectory,
    Path data,
    Path teacher,
    int stage,
    Path initFrom,
    Map<String, Object> model,
    Map<String, Object> training,
    Device device) {

  /** Validates the spec. */
  public FlowDistillerSpec {
    Objects.requireNonNull(runDirectory, "runDirectory");
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(device, "device");
    if (stage != 1 && stage != 2) {
      throw new IllegalArgumentException("stage must be 1 or 2, got " + stage);
    }
    if (stage == 1 && teacher == null) {
      throw new IllegalArgumentException(
          "stage 1 needs a teacher (model file or precomputed features)");
    }
    if (stage == 2 && initFrom == null) {
      throw new IllegalArgumentException(
          "stage 2 needs initFrom: the stage-1 run's checkpoint or model file");
    }
    model = Map.copyOf(model);
    training = Map.copyOf(training);
  }

  /**
   * A builder for a run in {@code runDirectory} on {@code data}.
   *
   * @param runDirectory where checkpoints and metrics go (created or resumed)
   * @param data the training images
   * @return the builder
   */
  public static Builder builder(Path runDirectory, Path data) {
    return new Builder(runDirectory, data);
  }

  /** Builder; every setter returns this. Not thread-safe. */
  public static final class Builder {
    private final Path runDirectory;
    private final Path data;
    private Path teacher;
    private int stage = 1;
    private Path initFrom;
    private final Map<String, Object> model = new LinkedHashMap<>();
    private final Map<String, Object> training = new LinkedHashMap<>();
    private Device device = Device.CPU;

    private Builder(Path runDirectory, Path data) {
      this.runDirectory = runDirectory;
      this.data = data;
    }

    /**
     * Sets the teacher: a model file or a folder of precomputed feature shards.
     *
     * @param v the teacher
     * @return this
     */
    public Builder teacher(Path v) {
      teacher = v;
      return this;
    }

    /**
     * Stage 2 (decoder fine-tuning) from a stage-1 result.
     *
     * @param initFromFile the stage-1 run or model file to start from
     * @return this
     */
    public Builder stage2(Path initFromFile) {
      stage = 2;
      initFrom = initFromFile;
      return this;
    }

    /**
     * One tokenizer constructor argument, by its reference name.
     *
     * @param name the reference's config name
     * @param value its value
     * @return this
     */
    public Builder model(String name, Object value) {
      model.put(name, value);
      return this;
    }

    /**
     * One training config value, by its reference name.
     *
     * @param name the reference's config name
     * @param value its value
     * @return this
     */
    public Builder training(String name, Object value) {
      training.put(name, value);
      return this;
    }

    /**
     * Sets the device to train on.
     *
     * @param v the device
     * @return this
     */
    public Builder device(Device v) {
      device = v;
      return this;
    }

    /**
     * Builds the spec.
     *
     * @return the spec
     */
    public FlowDistillerSpec build() {
      return new FlowDistillerSpec(
          runDirectory, data, teacher, stage, initFrom, model, training, device);
    }
  }
}
