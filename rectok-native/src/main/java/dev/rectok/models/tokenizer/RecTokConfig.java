package dev.rectok.models.tokenizer;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.models.ConfigJson;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The constructor arguments of the reference's {@code models.rectok.RecTok}, under their reference
 * names in camelCase, plus the {@code SIZE_DICT} the size names are looked up in.
 *
 * <p>Immutable and thread-safe. Build it with {@link #builder()}, from a golden folder's {@code
 * config.json} with {@link #fromGoldenConfig}, or take the released preset {@link #rectokBB()}.
 *
 * @param imgSize square image side in pixels
 * @param patchSize square patch side; {@code imgSize} must be a multiple of it
 * @param vitEncModelSize encoder size name in {@link #sizeDict()}
 * @param vitDecModelSize decoder size name
 * @param encoderType {@code "default"} or {@code "encoder"}; both have the same layout
 * @param vitSemModelSize semantic decoder size name
 * @param tokenChannels latent channels C per token
 * @param foundationModelType {@code ""} (no semantic decoder: the generator-side model) or {@code
 *     "dinov3"} (stage 1: a semantic decoder {@code sem_decoders.dinov3})
 * @param foundationHiddenSize not a reference argument: the foundation model's hidden size, which
 *     the semantic decoder projects to (the reference reads it from the loaded model). 0 means the
 *     known value for {@code foundationModelType} (DINOv3-L: 1024); 0 without a foundation model
 * @param clsTokenType only {@code "none"} is supported (the released models)
 * @param diffClsToken unused by the released models
 * @param semDecType only {@code "transformer"} is supported (the released models)
 * @param semInputType training only
 * @param semTarget training only
 * @param maskRatio maximum MAE mask ratio (training only)
 * @param maskRatioMin lower bound of the random mask ratio (training only)
 * @param maskRatioType training only
 * @param gamma latent noise scale (training only)
 * @param noiseSchedule training only
 * @param disableKl when true the encoder emits C channels (no posterior variance)
 * @param useQknorm must be false: the released models never enable it
 * @param mean initial global latent mean (replaced by {@code resetStats})
 * @param std initial global latent std
 * @param scaleFactor latent scale factor
 * @param sizeDict {@code SIZE_DICT} plus any additions
 */
public record RecTokConfig(
    @JsonProperty("img_size") int imgSize,
    @JsonProperty("patch_size") int patchSize,
    @JsonProperty("vit_enc_model_size") String vitEncModelSize,
    @JsonProperty("vit_dec_model_size") String vitDecModelSize,
    @JsonProperty("encoder_type") String encoderType,
    @JsonProperty("vit_sem_model_size") String vitSemModelSize,
    @JsonProperty("token_channels") int tokenChannels,
    @JsonProperty("foundation_model_type") String foundationModelType,
    @JsonProperty("foundation_hidden_size") int foundationHiddenSize,
    @JsonProperty("cls_token_type") String clsTokenType,
    @JsonProperty("diff_cls_token") boolean diffClsToken,
    @JsonProperty("sem_dec_type") String semDecType,
    @JsonProperty("sem_input_type") String semInputType,
    @JsonProperty("sem_target") String semTarget,
    @JsonProperty("mask_ratio") double maskRatio,
    @JsonProperty("mask_ratio_min") double maskRatioMin,
    @JsonProperty("mask_ratio_type") String maskRatioType,
    @JsonProperty("gamma") double gamma,
    @JsonProperty("noise_schedule") String noiseSchedule,
    @JsonProperty("disable_kl") boolean disableKl,
    @JsonProperty("use_qknorm") boolean useQknorm,
    @JsonProperty("mean") double mean,
    @JsonProperty("std") double std,
    @JsonProperty("scale_factor") double scaleFactor,
    @JsonProperty("size_dict") Map<String, ModelSize> sizeDict) {

  /** One {@code SIZE_DICT} entry. */
  public record ModelSize(int width, int layers, int heads) {
    public ModelSize {
      if (width <= 0 || layers < 0 || heads <= 0) {
        throw new IllegalArgumentException(
            "invalid model size " + width + "/" + layers + "/" + heads);
      }
    }

    /** {@code width / heads}. */
    public int headDim() {
      return width / heads;
    }
  }

  /** {@code SIZE_DICT} of {@code models/model_utils.py}. */
  public static final Map<String, ModelSize> SIZE_DICT;

  static {
    LinkedHashMap<String, ModelSize> m = new LinkedHashMap<>();
    m.put("tiny", new ModelSize(192, 3, 4));
    m.put("small", new ModelSize(512, 8, 8));
    m.put("base", new ModelSize(768, 12, 12));
    m.put("large", new ModelSize(1024, 24, 16));
    m.put("xl", new ModelSize(1152, 28, 16));
    m.put("huge", new ModelSize(1280, 32, 16));
    SIZE_DICT = Collections.unmodifiableMap(m);
  }

  /** Hidden size of each supported foundation model (the semantic decoder's output width). */
  private static final Map<String, Integer> FOUNDATION_HIDDEN = Map.of("dinov3", 1024);

  public RecTokConfig {
    Objects.requireNonNull(vitEncModelSize, "vitEncModelSize");
    Objects.requireNonNull(vitDecModelSize, "vitDecModelSize");
    foundationModelType = foundationModelType == null ? "" : foundationModelType;
    sizeDict = Collections.unmodifiableMap(new LinkedHashMap<>(sizeDict));
    if (imgSize <= 0 || patchSize <= 0 || imgSize % patchSize != 0) {
      throw new IllegalArgumentException(
          "imgSize " + imgSize + " must be a positive multiple of patchSize " + patchSize);
    }
    if (tokenChannels <= 0) {
      throw new IllegalArgumentException("tokenChannels must be positive, got " + tokenChannels);
    }
    if (useQknorm) {
      // The reference's qk-norm branch is never enabled by the release and its layout is not
      // specified.
      throw new IllegalArgumentException(
          "useQknorm=true is not supported (the released models never enable it)");
    }
    if (!"none".equals(clsTokenType)) {
      throw new IllegalArgumentException(
          "clsTokenType '" + clsTokenType + "' is not supported, only 'none'");
    }
    checkSize(sizeDict, vitEncModelSize);
    checkSize(sizeDict, vitDecModelSize);
    if (foundationModelType.isEmpty()) {
      foundationHiddenSize = 0;
    } else {
      if (foundationHiddenSize <= 0) {
        Integer known = FOUNDATION_HIDDEN.get(foundationModelType);
        if (known == null) {
          throw new IllegalArgumentException(
              "unknown foundationModelType '"
                  + foundationModelType
                  + "': give its foundationHiddenSize");
        }
        foundationHiddenSize = known;
      }
      if (!"transformer".equals(semDecType)) {
        throw new IllegalArgumentException(
            "semDecType '" + semDecType + "' is not supported, only 'transformer'");
      }
      checkSize(sizeDict, vitSemModelSize);
    }
  }

  private static void checkSize(Map<String, ModelSize> dict, String name) {
    ModelSize s = dict.get(name);
    if (s == null) {
      throw new IllegalArgumentException(
          "unknown model size '" + name + "' (known: " + dict.keySet() + ")");
    }
    if (s.width() % s.heads() != 0) {
      throw new IllegalArgumentException(
          "size '" + name + "': width " + s.width() + " not divisible by heads " + s.heads());
    }
    if (s.headDim() % 4 != 0) {
      // get_rope_tensor splits the head dim into H/W halves of [f, f] blocks: it needs a multiple
      // of 4.
      throw new IllegalArgumentException(
          "size '"
              + name
              + "': head dim "
              + s.headDim()
              + " must be a multiple of 4 for the 2D RoPE");
    }
  }

  /** Tokens per side ({@code imgSize / patchSize}). */
  public int gridSize() {
    return imgSize / patchSize;
  }

  /** Tokens per image. */
  public int seqLen() {
    return gridSize() * gridSize();
  }

  public ModelSize encoderSize() {
    return sizeDict.get(vitEncModelSize);
  }

  public ModelSize decoderSize() {
    return sizeDict.get(vitDecModelSize);
  }

  public ModelSize semanticSize() {
    return sizeDict.get(vitSemModelSize);
  }

  /** Whether the model carries a semantic decoder ({@code sem_decoders.<foundationModelType>}). */
  public boolean hasSemanticDecoder() {
    return !foundationModelType.isEmpty();
  }

  /** Channels the encoder's latent head emits: 2C (mean ‖ logvar), or C with {@code disableKl}. */
  public int encoderOutChannels() {
    return disableKl ? tokenChannels : 2 * tokenChannels;
  }

  /** A builder with the reference's defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.imgSize = imgSize;
    b.patchSize = patchSize;
    b.vitEncModelSize = vitEncModelSize;
    b.vitDecModelSize = vitDecModelSize;
    b.encoderType = encoderType;
    b.vitSemModelSize = vitSemModelSize;
    b.tokenChannels = tokenChannels;
    b.foundationModelType = foundationModelType;
    b.foundationHiddenSize = foundationHiddenSize;
    b.clsTokenType = clsTokenType;
    b.diffClsToken = diffClsToken;
    b.semDecType = semDecType;
    b.semInputType = semInputType;
    b.semTarget = semTarget;
    b.maskRatio = maskRatio;
    b.maskRatioMin = maskRatioMin;
    b.maskRatioType = maskRatioType;
    b.gamma = gamma;
    b.noiseSchedule = noiseSchedule;
    b.disableKl = disableKl;
    b.useQknorm = useQknorm;
    b.mean = mean;
    b.std = std;
    b.scaleFactor = scaleFactor;
    b.sizeDict = new LinkedHashMap<>(sizeDict);
    return b;
  }

  /**
   * {@code rectok_BB} as {@code create_generation_model} builds it (the decoder-fine-tuned,
   * generator-side tokenizer of {@code RecTok_decft.pth}): base encoder and decoder, 256 px, patch
   * 16, 128 channels, no semantic decoder.
   */
  public static RecTokConfig rectokBB() {
    return builder()
        .vitEncModelSize("base")
        .vitDecModelSize("base")
        .imgSize(256)
        .patchSize(16)
        .tokenChannels(128)
        .gamma(0.0)
        .maskRatio(0.0)
        .build();
  }

  /**
   * {@code rectok_BB} with the stage-1 arguments of {@code run_train_tokenizer.sh} ({@code
   * RecTok.pth}): adds the tiny DINOv3 semantic decoder.
   */
  public static RecTokConfig rectokBBStage1() {
    return builder()
        .vitEncModelSize("base")
        .vitDecModelSize("base")
        .imgSize(256)
        .patchSize(16)
        .tokenChannels(128)
        .encoderType("encoder")
        .maskRatio(0.4)
        .maskRatioMin(-0.1)
        .maskRatioType("random")
        .gamma(1.0)
        .noiseSchedule("shift")
        .foundationModelType("dinov3")
        .semDecType("transformer")
        .semTarget("rec+align")
        .semInputType("noisy")
        .vitSemModelSize("tiny")
        .build();
  }

  /** A preset by its reference name: {@code rectok_BB} (and {@code rectok_BB_stage1}). */
  public static RecTokConfig preset(String name) {
    return switch (name) {
      case "rectok_BB" -> rectokBB();
      case "rectok_BB_stage1" -> rectokBBStage1();
      default ->
          throw new IllegalArgumentException(
              "unknown preset '" + name + "' (known: rectok_BB, rectok_BB_stage1)");
    };
  }

  /** Keys of the record's JSON form that are not reference constructor arguments. */
  private static final List<String> NOT_KWARGS = List.of("foundation_hidden_size", "size_dict");

  /**
   * From a golden folder's {@code config.json} (or a model file's config): {@code
   * constructor_kwargs} (reference names in snake_case; absent ones keep the reference defaults; an
   * unknown one is refused with its path), {@code size_dict_additions}, and the foundation model
   * stand-in's {@code teacher_stand_in.hidden_size} when present. Read through the record's one
   * Jackson mapping ({@link ConfigJson}); {@link #toConstructorKwargs} is its inverse.
   */
  public static RecTokConfig fromGoldenConfig(JsonNode config) {
    JsonNode kw = config.path("constructor_kwargs");
    if (!kw.isObject()) {
      throw new IllegalArgumentException("config.json has no constructor_kwargs object");
    }
    for (String k : NOT_KWARGS) {
      if (kw.has(k)) {
        throw new IllegalArgumentException(
            "unknown key 'constructor_kwargs."
                + k
                + "': not a RecTok constructor argument"
                + (k.equals("size_dict")
                    ? " (use size_dict_additions)"
                    : " (use teacher_stand_in.hidden_size)"));
      }
    }
    RecTokConfig defaults = builder().build();
    ObjectNode given = kw.deepCopy();
    ObjectNode sizes = (ObjectNode) ConfigJson.write(defaults).get("size_dict");
    JsonNode add = config.path("size_dict_additions");
    if (add.isObject()) {
      sizes.setAll((ObjectNode) add);
    }
    given.set("size_dict", sizes);
    if (config.path("teacher_stand_in").has("hidden_size")) {
      given.set("foundation_hidden_size", config.path("teacher_stand_in").path("hidden_size"));
    }
    return ConfigJson.read(given, RecTokConfig.class, defaults, "constructor_kwargs");
  }

  /**
   * The reference's constructor arguments, every one written, in the reference's order (without
   * {@code SIZE_DICT} and the foundation width, which are not arguments): the {@code
   * constructor_kwargs} that {@link #fromGoldenConfig} reads back.
   */
  public ObjectNode toConstructorKwargs() {
    ObjectNode k = ConfigJson.write(this);
    NOT_KWARGS.forEach(k::remove);
    return k;
  }

  /** Mutable builder; not thread-safe. Defaults are the reference constructor's. */
  public static final class Builder {
    private int imgSize = 256;
    private int patchSize = 16;
    private String vitEncModelSize = "base";
    private String vitDecModelSize = "base";
    private String encoderType = "default";
    private String vitSemModelSize = "tiny";
    private int tokenChannels = 128;
    private String foundationModelType = "";
    private int foundationHiddenSize;
    private String clsTokenType = "none";
    private boolean diffClsToken;
    private String semDecType = "transformer";
    private String semInputType = "noisy";
    private String semTarget = "rec+align";
    private double maskRatio = 0.0;
    private double maskRatioMin = -0.1;
    private String maskRatioType = "random";
    private double gamma = 0.0;
    private String noiseSchedule = "shift";
    private boolean disableKl;
    private boolean useQknorm;
    private double mean = 0.0;
    private double std = 1.0;
    private double scaleFactor = 1.0;
    private LinkedHashMap<String, ModelSize> sizeDict = new LinkedHashMap<>(SIZE_DICT);

    private Builder() {}

    public Builder imgSize(int v) {
      imgSize = v;
      return this;
    }

    public Builder patchSize(int v) {
      patchSize = v;
      return this;
    }

    public Builder vitEncModelSize(String v) {
      vitEncModelSize = v;
      return this;
    }

    public Builder vitDecModelSize(String v) {
      vitDecModelSize = v;
      return this;
    }

    public Builder encoderType(String v) {
      encoderType = v;
      return this;
    }

    public Builder vitSemModelSize(String v) {
      vitSemModelSize = v;
      return this;
    }

    public Builder tokenChannels(int v) {
      tokenChannels = v;
      return this;
    }

    public Builder foundationModelType(String v) {
      foundationModelType = v;
      return this;
    }

    public Builder foundationHiddenSize(int v) {
      foundationHiddenSize = v;
      return this;
    }

    public Builder clsTokenType(String v) {
      clsTokenType = v;
      return this;
    }

    public Builder diffClsToken(boolean v) {
      diffClsToken = v;
      return this;
    }

    public Builder semDecType(String v) {
      semDecType = v;
      return this;
    }

    public Builder semInputType(String v) {
      semInputType = v;
      return this;
    }

    public Builder semTarget(String v) {
      semTarget = v;
      return this;
    }

    public Builder maskRatio(double v) {
      maskRatio = v;
      return this;
    }

    public Builder maskRatioMin(double v) {
      maskRatioMin = v;
      return this;
    }

    public Builder maskRatioType(String v) {
      maskRatioType = v;
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

    public Builder disableKl(boolean v) {
      disableKl = v;
      return this;
    }

    public Builder useQknorm(boolean v) {
      useQknorm = v;
      return this;
    }

    public Builder mean(double v) {
      mean = v;
      return this;
    }

    public Builder std(double v) {
      std = v;
      return this;
    }

    public Builder scaleFactor(double v) {
      scaleFactor = v;
      return this;
    }

    /** Adds (or replaces) a named size, like the golden folders' {@code size_dict_additions}. */
    public Builder addSize(String name, ModelSize size) {
      sizeDict.put(Objects.requireNonNull(name), Objects.requireNonNull(size));
      return this;
    }

    /** Adds a size and uses it for both the encoder and the decoder. */
    public Builder encoderDecoder(ModelSize enc, ModelSize dec) {
      addSize("custom_enc", enc);
      addSize("custom_dec", dec);
      return vitEncModelSize("custom_enc").vitDecModelSize("custom_dec");
    }

    public RecTokConfig build() {
      return new RecTokConfig(
          imgSize,
          patchSize,
          vitEncModelSize,
          vitDecModelSize,
          encoderType,
          vitSemModelSize,
          tokenChannels,
          foundationModelType,
          foundationHiddenSize,
          clsTokenType,
          diffClsToken,
          semDecType,
          semInputType,
          semTarget,
          maskRatio,
          maskRatioMin,
          maskRatioType,
          gamma,
          noiseSchedule,
          disableKl,
          useQknorm,
          mean,
          std,
          scaleFactor,
          sizeDict);
    }
  }
}
