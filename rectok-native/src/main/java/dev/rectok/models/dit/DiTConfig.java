package dev.rectok.models.dit;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.models.ConfigJson;
import dev.rectok.models.TimeShift;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Constructor arguments of the reference's {@code models/DDT.py DiTwDDTHead}, under the reference's
 * argument names in camelCase ({@code hidden_size} is {@link #hiddenSize}, ...). Two-element lists
 * are {@code [s-path ("encoder"), DDT head]}.
 *
 * <p>Immutable and thread-safe. Build with {@link #builder()} (the reference's defaults), a preset
 * ({@link #preset}), or {@link #fromConstructorKwargs} for a golden {@code config.json}. The JSON
 * form is declared once, by the {@code @JsonProperty} names of the components (the reference's
 * snake_case arguments): {@link #fromConstructorKwargs} reads it and {@link #toConstructorKwargs}
 * writes it, both through {@link ConfigJson}.
 *
 * <p>Only the configurations the reference can actually run are accepted: patch size 1 for both
 * embedders (for other values the reference's {@code PatchEmbed} expects {@code token_channels * p
 * * p} input channels and fails on a latent), RoPE on (with it off the reference's {@code net}
 * reads an attribute it never set), and head widths divisible by 4 (the reference's RoPE table has
 * {@code 4 * floor(head_dim / 4)} columns and only broadcasts against the heads when that equals
 * {@code head_dim}), and {@code wo_shift=False} (with it on, the reference's {@code DDTModulate}
 * fails on the missing shift).
 */
public record DiTConfig(
    @JsonProperty("img_size") int imgSize,
    @JsonProperty("patch_size") @JsonDeserialize(using = ConfigJson.IntPair.class)
        List<Integer> patchSize,
    @JsonProperty("tokenizer_patch_size") int tokenizerPatchSize,
    @JsonProperty("token_channels") int tokenChannels,
    @JsonProperty("hidden_size") @JsonDeserialize(using = ConfigJson.IntPair.class)
        List<Integer> hiddenSize,
    @JsonProperty("depth") @JsonDeserialize(using = ConfigJson.IntPair.class) List<Integer> depth,
    @JsonProperty("num_heads") @JsonDeserialize(using = ConfigJson.IntPair.class)
        List<Integer> numHeads,
    @JsonProperty("force_one_d_seq") int forceOneDSeq,
    @JsonProperty("mlp_ratio") double mlpRatio,
    @JsonProperty("label_dropout_prob") double labelDropoutProb,
    @JsonProperty("num_classes") int numClasses,
    @JsonProperty("use_qknorm") boolean useQknorm,
    @JsonProperty("use_swiglu") boolean useSwiglu,
    @JsonProperty("use_rope") boolean useRope,
    @JsonProperty("use_rmsnorm") boolean useRmsnorm,
    @JsonProperty("wo_shift") boolean woShift,
    @JsonProperty("use_pos_embed") boolean usePosEmbed,
    @JsonProperty("sampling_method") String samplingMethod,
    @JsonProperty("num_sampling_steps") int numSamplingSteps) {

  /** Width of the Gaussian Fourier frequency vector {@code t_embedder.W}. */
  public static final int FOURIER_EMBEDDING_SIZE = 256;

  public DiTConfig {
    patchSize = List.copyOf(patchSize);
    hiddenSize = List.copyOf(hiddenSize);
    depth = List.copyOf(depth);
    numHeads = List.copyOf(numHeads);
    Objects.requireNonNull(samplingMethod, "samplingMethod");
    requirePair("patch_size", patchSize);
    requirePair("hidden_size", hiddenSize);
    requirePair("depth", depth);
    requirePair("num_heads", numHeads);
    if (patchSize.get(0) != 1 || patchSize.get(1) != 1) {
      throw new IllegalArgumentException(
          "patch_size must be [1, 1] (the reference's PatchEmbed cannot embed a "
              + "latent with any other patch size), got "
              + patchSize);
    }
    if (!useRope) {
      throw new IllegalArgumentException(
          "use_rope=False is not runnable in the reference (net() reads enc_feat_rope)");
    }
    if (woShift) {
      throw new IllegalArgumentException(
          "wo_shift=True is not runnable in the reference (DDTModulate reads the "
              + "shape of the missing shift)");
    }
    if (imgSize <= 0 || tokenizerPatchSize <= 0 || imgSize / tokenizerPatchSize <= 0) {
      throw new IllegalArgumentException("img_size // tokenizer_patch_size must be positive");
    }
    if (tokenChannels <= 0 || numClasses <= 0 || depth.get(0) < 0 || depth.get(1) < 0) {
      throw new IllegalArgumentException(
          "token_channels and num_classes must be positive, depths non-negative");
    }
    if (labelDropoutProb < 0 || labelDropoutProb > 1) {
      throw new IllegalArgumentException(
          "label_dropout_prob must be in [0, 1], got " + labelDropoutProb);
    }
    for (int i = 0; i < 2; i++) {
      int d = hiddenSize.get(i);
      int h = numHeads.get(i);
      if (d <= 0 || h <= 0 || d % h != 0) {
        throw new IllegalArgumentException(
            "hidden_size["
                + i
                + "]="
                + d
                + " must be a positive multiple of num_heads["
                + i
                + "]="
                + h);
      }
      if ((d / h) % 4 != 0) {
        throw new IllegalArgumentException(
            "head dim "
                + (d / h)
                + " (hidden_size["
                + i
                + "]/num_heads["
                + i
                + "]) must be divisible by 4 for the reference's 2D RoPE table to match it");
      }
    }
    if (usePosEmbed && hiddenSize.get(0) % 4 != 0) {
      throw new IllegalArgumentException(
          "the 2D sincos pos_embed needs hidden_size[0] divisible by 4");
    }
  }

  private static void requirePair(String name, List<Integer> v) {
    if (v.size() != 2) {
      throw new IllegalArgumentException(name + " must have two entries [s-path, head], got " + v);
    }
  }

  // ------------------------------------------------------------------ derived sizes

  /**
   * Side of the square token grid: {@code img_size // tokenizer_patch_size} (the reference's {@code
   * input_size}).
   */
  public int inputSize() {
    return imgSize / tokenizerPatchSize;
  }

  /** Tokens per sample. */
  public int numTokens() {
    return inputSize() * inputSize();
  }

  /** Width of the s-path ("encoder") blocks. */
  public int encoderHiddenSize() {
    return hiddenSize.get(0);
  }

  /** Width of the DDT head blocks. */
  public int decoderHiddenSize() {
    return hiddenSize.get(1);
  }

  public int numEncoderBlocks() {
    return depth.get(0);
  }

  public int numDecoderBlocks() {
    return depth.get(1);
  }

  public int encoderHeadDim() {
    return hiddenSize.get(0) / numHeads.get(0);
  }

  public int decoderHeadDim() {
    return hiddenSize.get(1) / numHeads.get(1);
  }

  /** Rows of the label table: the classes plus the null (CFG) class when label dropout is on. */
  public int labelTableRows() {
    return numClasses + (labelDropoutProb > 0 ? 1 : 0);
  }

  /**
   * Hidden width of a block's MLP: {@code int(2/3 * int(D * mlp_ratio))} with SwiGLU, {@code int(D
   * * mlp_ratio)} otherwise. Evaluated in double exactly as Python does, so 1152 gives 3072 and
   * 2048 gives 5461.
   */
  public static int mlpHiddenSize(int width, double mlpRatio, boolean swiglu) {
    int mlpHiddenDim = (int) (width * mlpRatio);
    return swiglu ? (int) (2.0 / 3.0 * mlpHiddenDim) : mlpHiddenDim;
  }

  /**
   * The training and sampling time shift {@code sqrt(input_size^2 * token_channels / 4096)} (sqrt 8
   * for the release).
   */
  public double timeDistShift() {
    return TimeShift.resolution(tokenChannels, inputSize(), inputSize());
  }

  // ------------------------------------------------------------------ state-dict layout

  /** What a state-dict entry is. */
  public enum Kind {
    /** A trainable parameter. */
    PARAMETER,
    /** A parameter with {@code requires_grad=False} ({@code pos_embed}, {@code t_embedder.W}). */
    FROZEN_PARAMETER,
    /** A persistent buffer (the RoPE tables): in {@code model}, not in {@code model_ema}. */
    BUFFER
  }

  /** One key of the reference's {@code state_dict()}. */
  public record StateEntry(String name, List<Long> shape, Kind kind) {
    public StateEntry {
      shape = List.copyOf(shape);
    }

    /** The shape as an array (a copy). */
    public long[] shapeArray() {
      return shape.stream().mapToLong(Long::longValue).toArray();
    }

    /** Number of elements. */
    public long numel() {
      long n = 1;
      for (long s : shape) {
        n *= s;
      }
      return n;
    }
  }

  /**
   * The reference's {@code state_dict()} keys, shapes and kinds in its order, computed from the
   * configuration alone (nothing is allocated), so the 835M-parameter XL layout can be checked
   * without 3.3 GB of weights. {@link DiTwDDTHead} declares exactly these.
   */
  public List<StateEntry> stateDictLayout() {
    List<StateEntry> out = new ArrayList<>();
    long c = tokenChannels;
    long de = encoderHiddenSize();
    long dd = decoderHiddenSize();
    long n = numTokens();
    // Module order: own parameters (pos_embed), then children in the reference's registration
    // order: x_embedder, s_embedder, s_projector, t_embedder, y_embedder, final_layer, ropes,
    // blocks.
    if (usePosEmbed) {
      add(out, "pos_embed", Kind.FROZEN_PARAMETER, 1, n, de);
    }
    add(out, "x_embedder.proj.weight", Kind.PARAMETER, dd, c, 1, 1);
    add(out, "x_embedder.proj.bias", Kind.PARAMETER, dd);
    add(out, "s_embedder.proj.weight", Kind.PARAMETER, de, c, 1, 1);
    add(out, "s_embedder.proj.bias", Kind.PARAMETER, de);
    if (de != dd) { // otherwise the projector is nn.Identity
      add(out, "s_projector.weight", Kind.PARAMETER, dd, de);
      add(out, "s_projector.bias", Kind.PARAMETER, dd);
    }
    add(out, "t_embedder.W", Kind.FROZEN_PARAMETER, FOURIER_EMBEDDING_SIZE);
    add(out, "t_embedder.mlp.0.weight", Kind.PARAMETER, de, 2L * FOURIER_EMBEDDING_SIZE);
    add(out, "t_embedder.mlp.0.bias", Kind.PARAMETER, de);
    add(out, "t_embedder.mlp.2.weight", Kind.PARAMETER, de, de);
    add(out, "t_embedder.mlp.2.bias", Kind.PARAMETER, de);
    add(out, "y_embedder.embedding_table.weight", Kind.PARAMETER, labelTableRows(), de);
    if (useRmsnorm) {
      add(out, "final_layer.norm_final.weight", Kind.PARAMETER, dd);
    }
    add(out, "final_layer.linear.weight", Kind.PARAMETER, c, dd);
    add(out, "final_layer.linear.bias", Kind.PARAMETER, c);
    add(out, "final_layer.adaLN_modulation.1.weight", Kind.PARAMETER, 2 * dd, dd);
    add(out, "final_layer.adaLN_modulation.1.bias", Kind.PARAMETER, 2 * dd);
    add(out, "enc_feat_rope.freqs_cos", Kind.BUFFER, n, encoderHeadDim());
    add(out, "enc_feat_rope.freqs_sin", Kind.BUFFER, n, encoderHeadDim());
    add(out, "dec_feat_rope.freqs_cos", Kind.BUFFER, n, decoderHeadDim());
    add(out, "dec_feat_rope.freqs_sin", Kind.BUFFER, n, decoderHeadDim());
    int blocks = numEncoderBlocks() + numDecoderBlocks();
    for (int i = 0; i < blocks; i++) {
      boolean enc = i < numEncoderBlocks();
      long d = enc ? de : dd;
      long hd = enc ? encoderHeadDim() : decoderHeadDim();
      long hidden = mlpHiddenSize((int) d, mlpRatio, useSwiglu);
      String p = "blocks." + i + ".";
      if (useRmsnorm) { // LayerNorm(elementwise_affine=False) has no parameters
        add(out, p + "norm1.weight", Kind.PARAMETER, d);
        add(out, p + "norm2.weight", Kind.PARAMETER, d);
      }
      add(out, p + "attn.qkv.weight", Kind.PARAMETER, 3 * d, d);
      add(out, p + "attn.qkv.bias", Kind.PARAMETER, 3 * d);
      if (useQknorm) {
        add(out, p + "attn.q_norm.weight", Kind.PARAMETER, hd);
        if (!useRmsnorm) {
          add(out, p + "attn.q_norm.bias", Kind.PARAMETER, hd);
        }
        add(out, p + "attn.k_norm.weight", Kind.PARAMETER, hd);
        if (!useRmsnorm) {
          add(out, p + "attn.k_norm.bias", Kind.PARAMETER, hd);
        }
      }
      add(out, p + "attn.proj.weight", Kind.PARAMETER, d, d);
      add(out, p + "attn.proj.bias", Kind.PARAMETER, d);
      if (useSwiglu) {
        add(out, p + "mlp.w12.weight", Kind.PARAMETER, 2 * hidden, d);
        add(out, p + "mlp.w12.bias", Kind.PARAMETER, 2 * hidden);
        add(out, p + "mlp.w3.weight", Kind.PARAMETER, d, hidden);
        add(out, p + "mlp.w3.bias", Kind.PARAMETER, d);
      } else {
        add(out, p + "mlp.fc1.weight", Kind.PARAMETER, hidden, d);
        add(out, p + "mlp.fc1.bias", Kind.PARAMETER, hidden);
        add(out, p + "mlp.fc2.weight", Kind.PARAMETER, d, hidden);
        add(out, p + "mlp.fc2.bias", Kind.PARAMETER, d);
      }
      add(out, p + "adaLN_modulation.1.weight", Kind.PARAMETER, 6 * d, d);
      add(out, p + "adaLN_modulation.1.bias", Kind.PARAMETER, 6 * d);
    }
    return List.copyOf(out);
  }

  private static void add(List<StateEntry> out, String name, Kind kind, long... shape) {
    out.add(new StateEntry(name, Arrays.stream(shape).boxed().toList(), kind));
  }

  /**
   * Parameter elements (frozen included, buffers excluded) according to {@link #stateDictLayout}.
   */
  public long numParameters(boolean trainableOnly) {
    long total = 0;
    for (StateEntry e : stateDictLayout()) {
      if (e.kind() == Kind.PARAMETER || (!trainableOnly && e.kind() == Kind.FROZEN_PARAMETER)) {
        total += e.numel();
      }
    }
    return total;
  }

  // ------------------------------------------------------------------ factories

  /** A builder holding the reference constructor's defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from this configuration. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * A factory of the reference's {@code DiTDDT_models}, as the release instantiates it ({@code
   * token_channels=128}, {@code img_size=256}, {@code tokenizer_patch_size=16}, 1000 classes):
   * {@code DiTDDT_xl} (the generator), {@code DiTDDT_s} (the AutoGuidance model), {@code DiTDDT_b},
   * {@code DiTDDT_l}. Every one has the 2-block, 2048-wide, 16-head DDT head.
   */
  public static DiTConfig preset(String name) {
    Builder b = builder().imgSize(256).tokenizerPatchSize(16).tokenChannels(128).numClasses(1000);
    return switch (name) {
      case "DiTDDT_s" -> b.hiddenSize(384, 2048).depth(12, 2).numHeads(6, 16).build();
      case "DiTDDT_b" -> b.hiddenSize(768, 2048).depth(12, 2).numHeads(12, 16).build();
      case "DiTDDT_l" -> b.hiddenSize(1024, 2048).depth(24, 2).numHeads(16, 16).build();
      // The release's evaluation builds the XL with num_sampling_steps=150 (case6 manifest).
      case "DiTDDT_xl" ->
          b.hiddenSize(1152, 2048).depth(28, 2).numHeads(16, 16).numSamplingSteps(150).build();
      default ->
          throw new IllegalArgumentException(
              "unknown DiT preset '" + name + "' (known: DiTDDT_s, DiTDDT_b, DiTDDT_l, DiTDDT_xl)");
    };
  }

  /**
   * From the reference's keyword arguments as JSON (a golden {@code config.json}'s {@code
   * constructor_kwargs}, or the whole {@code config.json}, which holds them). Missing arguments
   * take the reference's defaults; {@code patch_size}, {@code hidden_size}, {@code depth} and
   * {@code num_heads} may be a number or a pair, as in the reference. An argument this class does
   * not know is refused with its path.
   */
  public static DiTConfig fromConstructorKwargs(JsonNode node) {
    boolean wrapped = node != null && node.has("constructor_kwargs");
    return ConfigJson.read(
        wrapped ? node.get("constructor_kwargs") : node,
        DiTConfig.class,
        builder().build(),
        wrapped ? "constructor_kwargs" : "");
  }

  /**
   * The reference's keyword arguments, every one written ({@code {"img_size": 256, "patch_size":
   * [1, 1], ...}}), so reading them back assumes no default: the inverse of {@link
   * #fromConstructorKwargs}.
   */
  public ObjectNode toConstructorKwargs() {
    return ConfigJson.write(this);
  }

  /** Mutable builder; not thread-safe. Starts from the reference constructor's defaults. */
  public static final class Builder {
    private int imgSize = 256;
    private List<Integer> patchSize = List.of(1, 1);
    private int tokenizerPatchSize = 16;
    private int tokenChannels = 768;
    private List<Integer> hiddenSize = List.of(1152, 2048);
    private List<Integer> depth = List.of(28, 2);
    private List<Integer> numHeads = List.of(16, 16);
    private int forceOneDSeq = 0;
    private double mlpRatio = 4.0;
    private double labelDropoutProb = 0.1;
    private int numClasses = 1000;
    private boolean useQknorm = false;
    private boolean useSwiglu = true;
    private boolean useRope = true;
    private boolean useRmsnorm = true;
    private boolean woShift = false;
    private boolean usePosEmbed = true;
    private String samplingMethod = "euler";
    private int numSamplingSteps = 50;

    private Builder() {}

    private Builder(DiTConfig c) {
      imgSize = c.imgSize;
      patchSize = c.patchSize;
      tokenizerPatchSize = c.tokenizerPatchSize;
      tokenChannels = c.tokenChannels;
      hiddenSize = c.hiddenSize;
      depth = c.depth;
      numHeads = c.numHeads;
      forceOneDSeq = c.forceOneDSeq;
      mlpRatio = c.mlpRatio;
      labelDropoutProb = c.labelDropoutProb;
      numClasses = c.numClasses;
      useQknorm = c.useQknorm;
      useSwiglu = c.useSwiglu;
      useRope = c.useRope;
      useRmsnorm = c.useRmsnorm;
      woShift = c.woShift;
      usePosEmbed = c.usePosEmbed;
      samplingMethod = c.samplingMethod;
      numSamplingSteps = c.numSamplingSteps;
    }

    public Builder imgSize(int v) {
      imgSize = v;
      return this;
    }

    public Builder patchSize(int s, int x) {
      patchSize = List.of(s, x);
      return this;
    }

    public Builder tokenizerPatchSize(int v) {
      tokenizerPatchSize = v;
      return this;
    }

    public Builder tokenChannels(int v) {
      tokenChannels = v;
      return this;
    }

    /** Widths of the s-path blocks and of the DDT head blocks. */
    public Builder hiddenSize(int encoder, int head) {
      hiddenSize = List.of(encoder, head);
      return this;
    }

    /** Numbers of s-path blocks and of DDT head blocks. */
    public Builder depth(int encoder, int head) {
      depth = List.of(encoder, head);
      return this;
    }

    /** Attention heads of the s-path blocks and of the DDT head blocks. */
    public Builder numHeads(int encoder, int head) {
      numHeads = List.of(encoder, head);
      return this;
    }

    public Builder forceOneDSeq(int v) {
      forceOneDSeq = v;
      return this;
    }

    public Builder mlpRatio(double v) {
      mlpRatio = v;
      return this;
    }

    public Builder labelDropoutProb(double v) {
      labelDropoutProb = v;
      return this;
    }

    public Builder numClasses(int v) {
      numClasses = v;
      return this;
    }

    public Builder useQknorm(boolean v) {
      useQknorm = v;
      return this;
    }

    public Builder useSwiglu(boolean v) {
      useSwiglu = v;
      return this;
    }

    public Builder useRope(boolean v) {
      useRope = v;
      return this;
    }

    public Builder useRmsnorm(boolean v) {
      useRmsnorm = v;
      return this;
    }

    public Builder woShift(boolean v) {
      woShift = v;
      return this;
    }

    public Builder usePosEmbed(boolean v) {
      usePosEmbed = v;
      return this;
    }

    public Builder samplingMethod(String v) {
      samplingMethod = v;
      return this;
    }

    public Builder numSamplingSteps(int v) {
      numSamplingSteps = v;
      return this;
    }

    public DiTConfig build() {
      return new DiTConfig(
          imgSize,
          patchSize,
          tokenizerPatchSize,
          tokenChannels,
          hiddenSize,
          depth,
          numHeads,
          forceOneDSeq,
          mlpRatio,
          labelDropoutProb,
          numClasses,
          useQknorm,
          useSwiglu,
          useRope,
          useRmsnorm,
          woShift,
          usePosEmbed,
          samplingMethod,
          numSamplingSteps);
    }
  }
}
