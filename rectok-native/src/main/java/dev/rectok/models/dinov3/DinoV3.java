package dev.rectok.models.dinov3;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.F;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.Conv2d;
import dev.rectok.torch.nn.Init;
import dev.rectok.torch.nn.LayerNorm;
import dev.rectok.torch.nn.Linear;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.ModuleDict;
import dev.rectok.torch.nn.ModuleList;
import dev.rectok.torch.nn.Parameter;
import java.util.List;

/**
 * The DINOv3 vision transformer ({@code DinoVisionTransformer} of {@code facebookresearch/dinov3}),
 * frozen, for inference. State-dict names are the official checkpoint's ({@code
 * patch_embed.proj.*}, {@code cls_token}, {@code storage_tokens}, {@code mask_token}, {@code
 * rope_embed.periods}, {@code blocks.N.{norm1,attn.qkv,attn.proj,ls1,norm2,mlp.fc1,mlp.fc2,ls2}},
 * {@code norm.*}); {@link DinoV3Weights} also reads the transformers layout.
 *
 * <p>The forward pass, as the paper's code has it:
 *
 * <ol>
 *   <li>patch embedding: a {@code patch × patch} stride-{@code patch} convolution, tokens
 *       row-major;
 *   <li>prefix: the cls token and the storage (register) tokens, then the patch tokens;
 *   <li>blocks: {@code x + ls1(attn(norm1(x)))}, then {@code x + ls2(mlp(norm2(x)))} — pre-norm
 *       LayerNorm, self-attention with a fused qkv whose k bias is masked out ({@code bias_mask})
 *       and RoPE ({@link DinoV3Rope}) on the patch tokens only, LayerScale on both branches, GELU
 *       MLP;
 *   <li>the final LayerNorm over all tokens ({@code last_hidden_state}); RecTok's teacher features
 *       are its patch tokens.
 * </ol>
 *
 * Any width, depth, head count (head dim a multiple of 4), patch size and image size works,
 * non-square grids included; pixels beyond a whole number of patches are dropped, as the
 * convolution does.
 *
 * <p><b>Ownership.</b> Owns its parameters and buffers (all frozen: they never require grad).
 * Returned tensors belong to the caller (or the current scope). <b>Threading.</b> Load on one
 * thread; after that concurrent {@link #forwardFeatures} calls are safe (they only read weights).
 */
public final class DinoV3 extends Module {
  private final DinoV3Config config;
  private final Conv2d patchEmbed;
  private final Parameter clsToken;
  private final Parameter storageTokens;
  private final Parameter maskToken;
  private final Rope rope;
  private final List<Block> blocks;
  private final LayerNorm norm;

  /**
   * Builds the model with the official initialisation's constants (tokens zero, bias mask set);
   * load weights next.
   */
  public DinoV3(DinoV3Config config) {
    this.config = config;
    long d = config.embedDim();
    int p = config.patchSize();
    ModuleDict<Conv2d> pe = registerModule("patch_embed", new ModuleDict<>());
    this.patchEmbed =
        pe.put(
            "proj",
            new Conv2d(
                config.inChans(),
                d,
                new long[] {p, p},
                new long[] {p, p},
                new long[] {0, 0},
                new long[] {1, 1},
                1,
                true));
    this.clsToken = registerParameter("cls_token", Tensor.zeros(1, 1, d));
    this.storageTokens =
        config.nStorageTokens() > 0
            ? registerParameter("storage_tokens", Tensor.zeros(1, config.nStorageTokens(), d))
            : null;
    this.rope = registerModule("rope_embed", new Rope(config));
    ModuleList<Block> list = registerModule("blocks", new ModuleList<>());
    for (int i = 0; i < config.depth(); i++) {
      list.add(new Block(config));
    }
    this.blocks = list.items();
    this.norm = registerModule("norm", new LayerNorm(new long[] {d}, config.normEps(), true));
    // registered last, as the official module does (state-dict order)
    this.maskToken = registerParameter("mask_token", Tensor.zeros(1, d));
    requiresGrad_(false);
    eval();
  }

  /** The configuration. */
  public DinoV3Config config() {
    return config;
  }

  /**
   * Random weights in the official {@code init_weights} style (truncated normal 0.02 for linears,
   * normal 0.02 for the tokens, LayerScale at {@code layerscale_init}); for tests and benchmarks
   * with a DINOv3-shaped model.
   */
  public void initRandom(TorchGenerator gen) {
    try (Scope s = Scope.open();
        GradMode g = GradMode.noGrad()) {
      Init.normal_(clsToken.data(), 0, 0.02, gen);
      if (storageTokens != null) {
        Init.normal_(storageTokens.data(), 0, 0.02, gen);
      }
      patchEmbed.resetParameters(gen);
      for (Block b : blocks) {
        b.initRandom(gen);
      }
    }
  }

  /**
   * The official {@code forward_features} outputs plus {@code last_hidden_state}; the record owns
   * all five.
   */
  public record Features(
      Tensor xNormClsToken,
      Tensor xStorageTokens,
      Tensor xNormPatchTokens,
      Tensor xPrenorm,
      Tensor lastHiddenState)
      implements AutoCloseable {
    @Override
    public void close() {
      for (Tensor t :
          new Tensor[] {
            xNormClsToken, xStorageTokens, xNormPatchTokens, xPrenorm, lastHiddenState
          }) {
        t.close();
      }
    }
  }

  /** Patch grid (rows, columns) of an image of {@code h × w} pixels. */
  public int[] grid(long h, long w) {
    return new int[] {(int) (h / config.patchSize()), (int) (w / config.patchSize())};
  }

  /**
   * {@code prepare_tokens_with_masks(x)} without masks: (B, 1 + storage + h·w, D), the cls token
   * first, then the storage tokens, then the patch tokens row-major.
   */
  public Tensor prepareTokens(Tensor pixels) {
    if (pixels.dim() != 4 || pixels.size(1) != config.inChans()) {
      throw new IllegalArgumentException(
          "DINOv3 expects (B, "
              + config.inChans()
              + ", H, W) pixels, got "
              + java.util.Arrays.toString(pixels.shape()));
    }
    if (pixels.size(2) < config.patchSize() || pixels.size(3) < config.patchSize()) {
      throw new IllegalArgumentException(
          "image "
              + pixels.size(2)
              + "x"
              + pixels.size(3)
              + " is smaller than one "
              + config.patchSize()
              + "-pixel patch");
    }
    try (Scope s = Scope.open()) {
      long b = pixels.size(0);
      long d = config.embedDim();
      Tensor x =
          patchEmbed.forward(pixels.to(clsToken.data().dtype())).flatten(2, 3).transpose(1, 2);
      // cls_token + 0 * mask_token, as the official code writes it (keeps mask_token in the graph)
      Tensor cls = clsToken.data().add(maskToken.data().mul(0.0)).expand(b, 1, d);
      Tensor[] parts =
          storageTokens == null
              ? new Tensor[] {cls, x}
              : new Tensor[] {cls, storageTokens.data().expand(b, config.nStorageTokens(), d), x};
      return s.keep(Tensor.cat(parts, 1));
    }
  }

  /** The RoPE sin/cos tables for an {@code h × w} patch grid on this model's device. */
  public DinoV3Rope.Tables ropeTables(int h, int w) {
    return DinoV3Rope.tables(config, rope.periods(), h, w);
  }

  /**
   * {@code forward_features(x)} in eval mode, without autograd (the weights never require grad).
   * No-grad rather than inference mode: the features may become loss targets, and on LibTorch 1.13
   * a bf16-autocast linear inside inference mode corrupted later float32 training in the same
   * process (see the README's teacher section).
   *
   * @param pixels (B, in_chans, H, W), already normalised as the model expects
   */
  public Features forwardFeatures(Tensor pixels) {
    try (Scope s = Scope.open();
        GradMode g = GradMode.noGrad()) {
      int[] hw = grid(pixels.size(2), pixels.size(3));
      Tensor x = prepareTokens(pixels);
      try (DinoV3Rope.Tables t = ropeTables(hw[0], hw[1])) {
        for (Block blk : blocks) {
          x = blk.forward(x, t);
        }
      }
      Tensor xNorm = norm.forward(x);
      int prefix = 1 + config.nStorageTokens();
      long n = x.size(1);
      Tensor cls = s.keep(xNorm.select(1, 0).contiguous());
      Tensor storage = s.keep(xNorm.narrow(1, 1, config.nStorageTokens()).contiguous());
      Tensor patches = s.keep(xNorm.narrow(1, prefix, n - prefix).contiguous());
      return new Features(cls, storage, patches, s.keep(x), s.keep(xNorm));
    }
  }

  /**
   * Patch features only: the final-LayerNorm patch tokens (B, h·w, D), i.e. {@code
   * last_hidden_state[:, 1 + storage:]} — what RecTok distils towards.
   */
  public Tensor patchFeatures(Tensor pixels) {
    try (Features f = forwardFeatures(pixels)) {
      return f.xNormPatchTokens().alias();
    }
  }

  /**
   * The {@code rope_embed} module: only the {@code periods} buffer (persistent, as in the official
   * state dict).
   */
  static final class Rope extends Module {
    Rope(DinoV3Config c) {
      registerBuffer("periods", DinoV3Rope.periods(c), true);
    }

    Tensor periods() {
      return buffer("periods");
    }
  }

  /** {@code LayerScale}: {@code x * gamma}. */
  static final class LayerScale extends Module {
    private final Parameter gamma;

    LayerScale(long dim, double init) {
      gamma =
          registerParameter(
              "gamma", Tensor.full(new long[] {dim}, init, DType.FLOAT32, Device.CPU));
    }

    Tensor forward(Tensor x) {
      return x.mul(gamma.data());
    }
  }

  /** {@code Mlp}: fc1, exact GELU, fc2. */
  static final class Mlp extends Module {
    private final Linear fc1;
    private final Linear fc2;

    Mlp(DinoV3Config c) {
      fc1 = registerModule("fc1", new Linear(c.embedDim(), c.ffnHidden(), c.ffnBias()));
      fc2 = registerModule("fc2", new Linear(c.ffnHidden(), c.embedDim(), c.ffnBias()));
    }

    Tensor forward(Tensor x) {
      try (Scope s = Scope.open()) {
        return s.keep(fc2.forward(F.gelu(fc1.forward(x), false)));
      }
    }
  }

  /**
   * {@code SelfAttention} with {@code LinearKMaskedBias}: {@code qkv} weight (3D, D), bias (3D) and
   * the {@code bias_mask} buffer (3D; 1 for q and v, 0 for k) multiplied into the bias.
   */
  static final class SelfAttention extends Module {
    private final MaskedQkv qkv;
    private final Linear proj;
    private final int numHeads;

    SelfAttention(DinoV3Config c) {
      numHeads = c.numHeads();
      qkv = registerModule("qkv", new MaskedQkv(c));
      proj = registerModule("proj", new Linear(c.embedDim(), c.embedDim(), c.projBias()));
    }

    void initRandom(TorchGenerator gen) {
      Init.truncNormal_(qkv.weight.data(), 0, 0.02, -2, 2, gen);
      Init.truncNormal_(proj.weight().data(), 0, 0.02, -2, 2, gen);
    }

    Tensor forward(Tensor x, DinoV3Rope.Tables rope) {
      long b = x.size(0);
      long n = x.size(1);
      long c = x.size(2);
      try (Scope s = Scope.open()) {
        Tensor parts = qkv.forward(x).reshape(b, n, 3, numHeads, c / numHeads);
        Tensor q = parts.select(2, 0).transpose(1, 2);
        Tensor k = parts.select(2, 1).transpose(1, 2);
        Tensor v = parts.select(2, 2).transpose(1, 2);
        q = DinoV3Rope.apply(q, rope);
        k = DinoV3Rope.apply(k, rope);
        Tensor o =
            F.scaledDotProductAttention(
                q, k, v, null, 0.0, false, 1.0 / Math.sqrt((double) c / numHeads));
        return s.keep(proj.forward(o.transpose(1, 2).reshape(b, n, c)));
      }
    }
  }

  /**
   * {@code LinearKMaskedBias}: {@code weight} (3D, D), {@code bias} (3D) and, with {@code
   * mask_k_bias}, the {@code bias_mask} buffer (1 for q and v, 0 for k) multiplied into the bias at
   * every call, as the official layer does (a checkpoint's mask is honoured as stored).
   */
  static final class MaskedQkv extends Module {
    final Parameter weight;
    final Parameter bias;
    final boolean masked;

    MaskedQkv(DinoV3Config c) {
      long d = c.embedDim();
      weight = registerParameter("weight", Tensor.zeros(3 * d, d));
      bias = c.qkvBias() ? registerParameter("bias", Tensor.zeros(3 * d)) : null;
      masked = c.qkvBias() && c.maskKBias();
      if (masked) {
        try (Scope s = Scope.open()) {
          registerBuffer(
              "bias_mask",
              s.keep(Tensor.cat(new Tensor[] {Tensor.ones(d), Tensor.zeros(d), Tensor.ones(d)}, 0)),
              true);
        }
      }
    }

    Tensor forward(Tensor x) {
      try (Scope s = Scope.open()) {
        Tensor b =
            bias == null
                ? null
                : masked
                    ? bias.data().mul(buffer("bias_mask").to(bias.data().dtype()))
                    : bias.data();
        return s.keep(F.linear(x, weight.data(), b));
      }
    }
  }

  /** {@code SelfAttentionBlock} (no drop path in eval). */
  static final class Block extends Module {
    private final LayerNorm norm1;
    private final SelfAttention attn;
    private final LayerScale ls1;
    private final LayerNorm norm2;
    private final Mlp mlp;
    private final LayerScale ls2;

    Block(DinoV3Config c) {
      long d = c.embedDim();
      norm1 = registerModule("norm1", new LayerNorm(new long[] {d}, c.normEps(), true));
      attn = registerModule("attn", new SelfAttention(c));
      ls1 = c.hasLayerScale() ? registerModule("ls1", new LayerScale(d, c.layerscaleInit())) : null;
      norm2 = registerModule("norm2", new LayerNorm(new long[] {d}, c.normEps(), true));
      mlp = registerModule("mlp", new Mlp(c));
      ls2 = c.hasLayerScale() ? registerModule("ls2", new LayerScale(d, c.layerscaleInit())) : null;
    }

    void initRandom(TorchGenerator gen) {
      attn.initRandom(gen);
      Init.truncNormal_(mlp.fc1.weight().data(), 0, 0.02, -2, 2, gen);
      Init.truncNormal_(mlp.fc2.weight().data(), 0, 0.02, -2, 2, gen);
      for (Linear l : new Linear[] {attn.proj, mlp.fc1, mlp.fc2}) {
        if (l.bias() != null) {
          Init.zeros_(l.bias().data());
        }
      }
      if (attn.qkv.bias != null) {
        Init.zeros_(attn.qkv.bias.data());
      }
    }

    Tensor forward(Tensor x, DinoV3Rope.Tables rope) {
      try (Scope s = Scope.open()) {
        Tensor a = attn.forward(norm1.forward(x), rope);
        Tensor xa = x.add(ls1 == null ? a : ls1.forward(a));
        Tensor m = mlp.forward(norm2.forward(xa));
        return s.keep(xa.add(ls2 == null ? m : ls2.forward(m)));
      }
    }
  }
}
