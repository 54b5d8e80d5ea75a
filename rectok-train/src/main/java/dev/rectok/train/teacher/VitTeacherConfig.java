package dev.rectok.train.teacher;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.models.ConfigJson;
import java.util.ArrayList;
import java.util.List;

/**
 * Shape of a {@link VitTeacher}: a {@code imgSize}² image cut into {@code patchSize}² patches (a
 * {@link #gridSize()}² token grid plus one cls token), {@code depth} pre-norm transformer blocks of
 * {@code width} channels and {@code heads} heads, a {@code numClasses}-way head.
 *
 * <p>The blocks are the tokenizer's {@link dev.rectok.models.tokenizer.Block} (RMSNorm, 2D RoPE,
 * SwiGLU with hidden {@code int(8/3 · width)}), so there is no separate MLP ratio, and the head
 * dimension {@code width / heads} must be a multiple of 4 (what the 2D RoPE needs).
 *
 * <p>Immutable and thread-safe. Serialises to the JSON object stored as {@code rectok.config} in a
 * teacher model file ({@link #toJson()}, {@link #fromJson(JsonNode)}).
 *
 * @param imgSize image side in pixels
 * @param patchSize patch side in pixels; divides {@code imgSize}
 * @param inChannels image channels
 * @param width token width (the feature dimension D)
 * @param depth number of transformer blocks
 * @param heads attention heads; divide {@code width} into heads of a multiple of 4 channels
 * @param numClasses classifier outputs
 */
public record VitTeacherConfig(
    @JsonProperty("img_size") int imgSize,
    @JsonProperty("patch_size") int patchSize,
    @JsonProperty("in_channels") int inChannels,
    @JsonProperty("width") int width,
    @JsonProperty("depth") int depth,
    @JsonProperty("heads") int heads,
    @JsonProperty("num_classes") int numClasses) {
  private static final ObjectMapper JSON = new ObjectMapper();

  public VitTeacherConfig {
    List<String> errors = new ArrayList<>();
    positive(errors, "img_size", imgSize);
    positive(errors, "patch_size", patchSize);
    positive(errors, "in_channels", inChannels);
    positive(errors, "width", width);
    positive(errors, "depth", depth);
    positive(errors, "heads", heads);
    if (numClasses < 2) {
      errors.add("num_classes must be at least 2, got " + numClasses);
    }
    if (imgSize > 0 && patchSize > 0 && imgSize % patchSize != 0) {
      errors.add("patch_size " + patchSize + " must divide img_size " + imgSize);
    }
    if (width > 0 && heads > 0) {
      if (width % heads != 0) {
        errors.add("heads " + heads + " must divide width " + width);
      } else if ((width / heads) % 4 != 0) {
        errors.add(
            "head dim width/heads = " + width / heads + " must be a multiple of 4 (2D RoPE)");
      }
    }
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException(
          "invalid ViT teacher config: " + String.join("; ", errors));
    }
  }

  private static void positive(List<String> errors, String name, int v) {
    if (v <= 0) {
      errors.add(name + " must be positive, got " + v);
    }
  }

  /** Patches per side ({@code imgSize / patchSize}). */
  public int gridSize() {
    return imgSize / patchSize;
  }

  /** Patch tokens per image ({@code gridSize()²}). */
  public int numPatches() {
    return gridSize() * gridSize();
  }

  /** Channels per attention head. */
  public int headDim() {
    return width / heads;
  }

  /**
   * The JSON object with snake_case keys ({@code img_size}, {@code patch_size}, ...), declared once
   * on the components and written through {@link ConfigJson}.
   */
  public ObjectNode toJson() {
    return ConfigJson.write(this);
  }

  /**
   * Reads {@link #toJson()}'s form; every key is required (a model file states its whole shape) and
   * unknown keys are refused.
   *
   * @throws IllegalArgumentException naming the missing, unknown or non-integer key, or the invalid
   *     value
   */
  public static VitTeacherConfig fromJson(JsonNode node) {
    return ConfigJson.readComplete(node, VitTeacherConfig.class, "");
  }

  /** {@link #fromJson(JsonNode)} from text. */
  public static VitTeacherConfig fromJson(String json) {
    try {
      return fromJson(JSON.readTree(json));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(
          "malformed ViT teacher config JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** A builder starting from the demo defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Builder with the demo defaults: 32×32 RGB, patch 4 (an 8×8 grid), width 64, depth 4, 4 heads,
   * 10 classes. Not thread-safe.
   */
  public static final class Builder {
    private int imgSize = 32;
    private int patchSize = 4;
    private int inChannels = 3;
    private int width = 64;
    private int depth = 4;
    private int heads = 4;
    private int numClasses = 10;

    private Builder() {}

    public Builder imgSize(int v) {
      imgSize = v;
      return this;
    }

    public Builder patchSize(int v) {
      patchSize = v;
      return this;
    }

    public Builder inChannels(int v) {
      inChannels = v;
      return this;
    }

    public Builder width(int v) {
      width = v;
      return this;
    }

    public Builder depth(int v) {
      depth = v;
      return this;
    }

    public Builder heads(int v) {
      heads = v;
      return this;
    }

    public Builder numClasses(int v) {
      numClasses = v;
      return this;
    }

    /**
     * @throws IllegalArgumentException listing every invalid setting
     */
    public VitTeacherConfig build() {
      return new VitTeacherConfig(imgSize, patchSize, inChannels, width, depth, heads, numClasses);
    }
  }
}
