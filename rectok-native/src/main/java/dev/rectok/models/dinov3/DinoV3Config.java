package dev.rectok.models.dinov3;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Set;

/**
 * The constructor arguments of the official {@code DinoVisionTransformer} ({@code
 * dinov3/models/vision_transformer.py}) that an inference-only teacher needs, under their official
 * names. The training-only RoPE augmentations ({@code pos_embed_rope_shift_coords}, {@code
 * _jitter_coords}, {@code _rescale_coords}) and {@code drop_path_rate} have no effect in eval mode
 * and are accepted and ignored, as {@code img_size} is (the model takes any image size). Variants
 * this SDK does not implement (SwiGLU FFN, RMSNorm, untied norms, a bf16/fp16 RoPE table) are
 * refused with the reason, never approximated.
 *
 * @param patchSize patch side in pixels
 * @param inChans image channels
 * @param ropeBase {@code pos_embed_rope_base}, or NaN when the periods come from min/max
 * @param ropeMinPeriod {@code pos_embed_rope_min_period} or NaN
 * @param ropeMaxPeriod {@code pos_embed_rope_max_period} or NaN
 * @param normalizeCoords {@code pos_embed_rope_normalize_coords}: {@code separate}, {@code min} or
 *     {@code max}
 * @param embedDim token width
 * @param depth number of blocks
 * @param numHeads attention heads; {@code embed_dim} must be a multiple of {@code 4 · num_heads}
 * @param ffnRatio MLP hidden width / {@code embed_dim}
 * @param qkvBias whether the fused qkv projection has a bias
 * @param projBias whether the attention output projection has a bias
 * @param ffnBias whether the MLP linears have biases
 * @param layerscaleInit {@code layerscale_init}; NaN for no LayerScale
 * @param normEps LayerNorm epsilon: 1e-5 for {@code layernormbf16}, 1e-6 for {@code layernorm}
 * @param nStorageTokens register ("storage") tokens after the cls token
 * @param maskKBias whether the k part of the qkv bias is masked out ({@code bias_mask})
 *     <p>Immutable and thread-safe.
 */
public record DinoV3Config(
    int patchSize,
    int inChans,
    double ropeBase,
    double ropeMinPeriod,
    double ropeMaxPeriod,
    String normalizeCoords,
    int embedDim,
    int depth,
    int numHeads,
    double ffnRatio,
    boolean qkvBias,
    boolean projBias,
    boolean ffnBias,
    double layerscaleInit,
    double normEps,
    int nStorageTokens,
    boolean maskKBias) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Keys that only matter in training (or for the default image size) and are ignored here. */
  private static final Set<String> IGNORED =
      Set.of(
          "img_size",
          "drop_path_rate",
          "pos_embed_rope_shift_coords",
          "pos_embed_rope_jitter_coords",
          "pos_embed_rope_rescale_coords",
          "device");

  private static final Set<String> KNOWN =
      Set.of(
          "patch_size",
          "in_chans",
          "pos_embed_rope_base",
          "pos_embed_rope_min_period",
          "pos_embed_rope_max_period",
          "pos_embed_rope_normalize_coords",
          "pos_embed_rope_dtype",
          "embed_dim",
          "depth",
          "num_heads",
          "ffn_ratio",
          "qkv_bias",
          "proj_bias",
          "ffn_bias",
          "layerscale_init",
          "norm_layer",
          "ffn_layer",
          "n_storage_tokens",
          "mask_k_bias",
          "untie_cls_and_patch_norms",
          "untie_global_and_local_cls_norm");

  /**
   * The released presets this layout covers (the {@code dinov3_vit*16} hub entries with a GELU
   * MLP).
   */
  public static final List<String> PRESETS =
      List.of("dinov3_vits16", "dinov3_vitb16", "dinov3_vitl16");

  /** Validates the combination. */
  public DinoV3Config {
    require(
        patchSize > 0
            && inChans > 0
            && embedDim > 0
            && depth > 0
            && numHeads > 0
            && nStorageTokens >= 0,
        "patch_size, in_chans, embed_dim, depth, num_heads must be positive and n_storage_tokens >= 0");
    require(
        embedDim % (4 * numHeads) == 0,
        "embed_dim ("
            + embedDim
            + ") must be a multiple of 4 * num_heads ("
            + 4 * numHeads
            + ") for the 2D RoPE");
    require(
        ffnRatio > 0 && (long) (embedDim * ffnRatio) > 0,
        "ffn_ratio must give a positive MLP width");
    boolean periods = !Double.isNaN(ropeMinPeriod) && !Double.isNaN(ropeMaxPeriod);
    require(
        !Double.isNaN(ropeBase) != periods,
        "give either pos_embed_rope_base or both pos_embed_rope_min_period and pos_embed_rope_max_period");
    require(Double.isNaN(ropeBase) || ropeBase > 0, "pos_embed_rope_base must be positive");
    require(!periods || (ropeMinPeriod > 0 && ropeMaxPeriod > 0), "RoPE periods must be positive");
    require(
        List.of("separate", "min", "max").contains(normalizeCoords),
        "pos_embed_rope_normalize_coords must be separate, min or max, got " + normalizeCoords);
    require(normEps > 0, "norm eps must be positive");
    require(
        Double.isNaN(layerscaleInit) || layerscaleInit != 0,
        "layerscale_init 0 means no LayerScale: use null");
  }

  /** Channels per head. */
  public int headDim() {
    return embedDim / numHeads;
  }

  /** MLP hidden width ({@code int(embed_dim * ffn_ratio)}, as {@code Mlp} is built). */
  public int ffnHidden() {
    return (int) (embedDim * ffnRatio);
  }

  /** Whether blocks carry LayerScale ({@code ls1}, {@code ls2}). */
  public boolean hasLayerScale() {
    return !Double.isNaN(layerscaleInit);
  }

  /**
   * A released preset: {@code dinov3_vits16} (384 wide, 12 blocks, 6 heads), {@code dinov3_vitb16}
   * (768, 12, 12) or {@code dinov3_vitl16} (1024, 24, 16, the RecTok teacher), all with patch 16, 4
   * storage tokens, RoPE base 100 with "separate" coordinates, masked k bias, LayerScale and
   * LayerNorm eps 1e-5.
   */
  public static DinoV3Config preset(String name) {
    return switch (name) {
      case "dinov3_vits16" -> release(384, 12, 6);
      case "dinov3_vitb16" -> release(768, 12, 12);
      case "dinov3_vitl16" -> release(1024, 24, 16);
      default ->
          throw new IllegalArgumentException(
              "unknown DINOv3 preset '" + name + "' (known: " + PRESETS + ")");
    };
  }

  /** The release settings at another size (what a DINOv3-shaped test teacher uses). */
  public static DinoV3Config release(int embedDim, int depth, int numHeads) {
    return release(embedDim, depth, numHeads, 16);
  }

  /** {@link #release(int, int, int)} with another patch size. */
  public static DinoV3Config release(int embedDim, int depth, int numHeads, int patchSize) {
    return new DinoV3Config(
        patchSize,
        3,
        100.0,
        Double.NaN,
        Double.NaN,
        "separate",
        embedDim,
        depth,
        numHeads,
        4.0,
        true,
        true,
        true,
        1e-5,
        1e-5,
        4,
        true);
  }

  /**
   * Reads official constructor arguments (a golden {@code config.json}'s {@code constructor_kwargs}
   * or a model file's config). Missing keys take the official constructor's defaults, except {@code
   * pos_embed_rope_dtype}, which must be {@code fp32} when given (the released models) and defaults
   * to it.
   *
   * @throws IllegalArgumentException naming an unknown key, an unsupported variant or a bad value
   */
  public static DinoV3Config fromConstructorKwargs(JsonNode kw) {
    if (kw == null || !kw.isObject()) {
      throw new IllegalArgumentException(
          "DINOv3 constructor_kwargs must be a JSON object, got " + kw);
    }
    kw.fieldNames()
        .forEachRemaining(
            k -> {
              if (!KNOWN.contains(k) && !IGNORED.contains(k)) {
                throw new IllegalArgumentException(
                    "unknown DINOv3 constructor argument '" + k + "' (known: " + KNOWN + ")");
              }
            });
    String ffn = kw.path("ffn_layer").asText("mlp");
    require(
        ffn.equals("mlp"),
        "ffn_layer '" + ffn + "' is not supported (only 'mlp', the ViT-S/B/L/16 releases)");
    String norm = kw.path("norm_layer").asText("layernorm");
    double eps =
        switch (norm) {
          case "layernorm" -> 1e-6;
          case "layernormbf16" -> 1e-5;
          default ->
              throw new IllegalArgumentException(
                  "norm_layer '" + norm + "' is not supported (layernorm or layernormbf16)");
        };
    String ropeDtype = kw.path("pos_embed_rope_dtype").asText("fp32");
    require(
        ropeDtype.equals("fp32"),
        "pos_embed_rope_dtype '"
            + ropeDtype
            + "' is not supported: the released models compute RoPE in fp32");
    require(
        !kw.path("untie_cls_and_patch_norms").asBoolean(false)
            && !kw.path("untie_global_and_local_cls_norm").asBoolean(false),
        "untied cls/patch norms are not supported");
    double base = kw.has("pos_embed_rope_base") ? nullable(kw.get("pos_embed_rope_base")) : 100.0;
    return new DinoV3Config(
        kw.path("patch_size").asInt(16),
        kw.path("in_chans").asInt(3),
        base,
        nullable(kw.get("pos_embed_rope_min_period")),
        nullable(kw.get("pos_embed_rope_max_period")),
        kw.path("pos_embed_rope_normalize_coords").asText("separate"),
        kw.path("embed_dim").asInt(768),
        kw.path("depth").asInt(12),
        kw.path("num_heads").asInt(12),
        kw.path("ffn_ratio").asDouble(4.0),
        kw.path("qkv_bias").asBoolean(true),
        kw.path("proj_bias").asBoolean(true),
        kw.path("ffn_bias").asBoolean(true),
        nullable(kw.get("layerscale_init")),
        eps,
        kw.path("n_storage_tokens").asInt(0),
        kw.path("mask_k_bias").asBoolean(false));
  }

  /**
   * The official constructor arguments of this config ({@link #fromConstructorKwargs} reads them
   * back).
   */
  public ObjectNode toConstructorKwargs() {
    ObjectNode o = JSON.createObjectNode();
    o.put("patch_size", patchSize).put("in_chans", inChans);
    putNullable(o, "pos_embed_rope_base", ropeBase);
    putNullable(o, "pos_embed_rope_min_period", ropeMinPeriod);
    putNullable(o, "pos_embed_rope_max_period", ropeMaxPeriod);
    o.put("pos_embed_rope_normalize_coords", normalizeCoords).put("pos_embed_rope_dtype", "fp32");
    o.put("embed_dim", embedDim)
        .put("depth", depth)
        .put("num_heads", numHeads)
        .put("ffn_ratio", ffnRatio);
    o.put("qkv_bias", qkvBias).put("proj_bias", projBias).put("ffn_bias", ffnBias);
    putNullable(o, "layerscale_init", layerscaleInit);
    if (normEps != 1e-5 && normEps != 1e-6) {
      throw new IllegalStateException("norm eps " + normEps + " has no official norm_layer name");
    }
    o.put("norm_layer", normEps == 1e-5 ? "layernormbf16" : "layernorm").put("ffn_layer", "mlp");
    o.put("n_storage_tokens", nStorageTokens).put("mask_k_bias", maskKBias);
    return o;
  }

  private static double nullable(JsonNode n) {
    if (n == null || n.isNull()) {
      return Double.NaN;
    }
    require(n.isNumber(), "expected a number, got " + n);
    return n.asDouble();
  }

  private static void putNullable(ObjectNode o, String key, double v) {
    if (Double.isNaN(v)) {
      o.putNull(key);
    } else {
      o.put(key, v);
    }
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }
}
