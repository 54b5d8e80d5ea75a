package dev.rectok.models.dit;

import dev.rectok.api.DType;
import dev.rectok.torch.F;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.Activation;
import dev.rectok.torch.nn.Conv2d;
import dev.rectok.torch.nn.Embedding;
import dev.rectok.torch.nn.LayerNorm;
import dev.rectok.torch.nn.Linear;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.Parameter;
import dev.rectok.torch.nn.RMSNorm;
import dev.rectok.torch.nn.Sequential;
import dev.rectok.torch.nn.SwiGLUFFN;
import dev.rectok.torch.nn.UnaryModule;

/**
 * The building blocks of DiT^DH ({@code models/layers.py}), with the reference's attribute names so
 * state-dict keys match. Package-private: {@link DiTwDDTHead} is the public face. Each module owns
 * its parameters; forward results belong to the caller's scope.
 */
final class DiTLayers {
  private DiTLayers() {}

  /** Epsilon of the DiT RMSNorm and of the affine-free LayerNorm alternative. */
  static final double NORM_EPS = 1e-6;

  /** {@code x * (1 + scale) + shift}, in the reference's operation order ({@code DDTModulate}). */
  static Tensor modulate(Tensor x, Tensor shift, Tensor scale) {
    return F.modulate(x, shift, scale);
  }

  /**
   * The block's normalisation: the DiT {@code RMSNorm} (weight, eps 1e-6) or, with {@code
   * use_rmsnorm=False}, {@code LayerNorm(elementwise_affine=False, eps=1e-6)}.
   */
  static UnaryModule norm(long dim, boolean rms) {
    return rms ? new RMSNorm(dim, NORM_EPS) : new LayerNorm(new long[] {dim}, NORM_EPS, false);
  }

  /**
   * {@code PatchEmbed} with patch 1: a 1x1 {@code proj} conv, then tokens in row-major order (B,
   * H*W, D).
   */
  static final class PatchEmbed extends UnaryModule {
    final Conv2d proj;

    PatchEmbed(long inChannels, long embedDim) {
      proj = registerModule("proj", new Conv2d(inChannels, embedDim, 1));
    }

    @Override
    public Tensor forward(Tensor x) {
      try (Scope s = Scope.open()) {
        // Materialised (the reference keeps the transposed view): a contiguous token stream keeps
        // every later norm and Linear on its fast path (addmm, last-dim reductions), see Encoder.
        return s.keep(proj.forward(x).flatten(2, -1).transpose(1, 2).contiguous());
      }
    }
  }

  /**
   * {@code GaussianFourierEmbedding}: {@code [sin(2 pi t W), cos(2 pi t W)]} over the frozen random
   * frequencies {@code W} (256), then {@code mlp} = Linear(512, D), SiLU, Linear(D, D).
   */
  static final class GaussianFourierEmbedding extends UnaryModule {
    final Parameter w;
    final Sequential mlp;

    GaussianFourierEmbedding(long hidden, int embeddingSize) {
      // Frozen: the reference creates it with requires_grad=False and never trains it.
      w = registerParameter("W", new Parameter(Tensor.zeros(embeddingSize), false));
      mlp =
          registerModule(
              "mlp",
              new Sequential(
                  new Linear(2L * embeddingSize, hidden, true),
                  Activation.silu(),
                  new Linear(hidden, hidden, true)));
    }

    @Override
    public Tensor forward(Tensor t) {
      try (Scope s = Scope.open()) {
        // t[:, None] * W[None, :] * 2 * pi, left to right as in the reference (float32 ops)
        Tensor arg = t.unsqueeze(1).mul(w.data().unsqueeze(0)).mul(2.0).mul(Math.PI);
        Tensor emb = Tensor.cat(new Tensor[] {arg.sin(), arg.cos()}, -1);
        return s.keep(mlp.forward(emb));
      }
    }
  }

  /**
   * {@code LabelEmbedder}: {@code embedding_table} with one extra row, the null class {@code
   * num_classes}, when label dropout is on. In training, labels are replaced by the null class with
   * probability {@code dropout_prob}.
   */
  static final class LabelEmbedder extends Module {
    final Embedding embeddingTable;
    final int numClasses;
    final double dropoutProb;

    LabelEmbedder(int numClasses, long hidden, double dropoutProb) {
      this.numClasses = numClasses;
      this.dropoutProb = dropoutProb;
      embeddingTable =
          registerModule(
              "embedding_table", new Embedding(numClasses + (dropoutProb > 0 ? 1 : 0), hidden));
    }

    Tensor forward(Tensor labels, boolean train, TorchGenerator gen) {
      if (!(train && dropoutProb > 0)) {
        return embeddingTable.forward(labels);
      }
      try (Scope s = Scope.open()) {
        Tensor drop =
            Tensor.rand(new long[] {labels.size(0)}, gen, DType.FLOAT32, labels.device())
                .lt(dropoutProb);
        Tensor nullClass = Tensor.full(labels.shape(), numClasses, labels.dtype(), labels.device());
        return s.keep(embeddingTable.forward(Tensor.where(drop, nullClass, labels)));
      }
    }
  }

  /**
   * {@code DDTVisionRotaryEmbeddingFast(dim=head_dim/2, pt_seq_len=n)}: EVA-style interleaved 2D
   * RoPE. The tables are persistent buffers in the reference's state dict (so they keep their keys
   * here), but they are always recomputed, never loaded.
   */
  static final class Rope extends Module {
    final int headDim;
    final int gridSize;

    Rope(int headDim, int gridSize) {
      this.headDim = headDim;
      this.gridSize = gridSize;
      registerBuffer("freqs_cos", DiTTables.ropeCos(headDim, gridSize), true);
      registerBuffer("freqs_sin", DiTTables.ropeSin(headDim, gridSize), true);
    }

    /**
     * Recomputes the tables (after a load that might have overwritten them), on their device and
     * dtype.
     */
    void recompute() {
      for (String name : new String[] {"freqs_cos", "freqs_sin"}) {
        Tensor old = buffer(name);
        try (Scope s = Scope.open()) {
          Tensor fresh =
              name.equals("freqs_cos")
                  ? DiTTables.ropeCos(headDim, gridSize)
                  : DiTTables.ropeSin(headDim, gridSize);
          replaceBuffer(name, s.keep(fresh.to(old.dtype(), old.device())));
        }
      }
    }

    /**
     * {@code t * cos + rotate_half(t) * sin} on (B, heads, N, head_dim), adjacent channels paired.
     */
    Tensor apply(Tensor t) {
      return F.applyRotaryEmb(t, buffer("freqs_cos"), buffer("freqs_sin"));
    }
  }

  /**
   * {@code NormAttention}: qkv with bias, optional q/k norm, RoPE on q and k, SDPA, {@code proj}.
   */
  static final class NormAttention extends Module {
    final int numHeads;
    final int headDim;
    final Linear qkv;
    final UnaryModule qNorm;
    final UnaryModule kNorm;
    final Linear proj;

    NormAttention(int dim, int numHeads, boolean qkNorm, boolean rms) {
      this.numHeads = numHeads;
      this.headDim = dim / numHeads;
      qkv = registerModule("qkv", new Linear(dim, 3L * dim, true));
      // With use_rmsnorm the reference swaps its norm layer for the DiT RMSNorm; otherwise it is a
      // default nn.LayerNorm (affine, eps 1e-5).
      qNorm =
          qkNorm
              ? registerModule(
                  "q_norm", rms ? new RMSNorm(headDim, NORM_EPS) : new LayerNorm(headDim))
              : null;
      kNorm =
          qkNorm
              ? registerModule(
                  "k_norm", rms ? new RMSNorm(headDim, NORM_EPS) : new LayerNorm(headDim))
              : null;
      proj = registerModule("proj", new Linear(dim, dim, true));
    }

    Tensor forward(Tensor x, Rope rope) {
      try (Scope s = Scope.open()) {
        long b = x.size(0);
        long n = x.size(1);
        long c = x.size(2);
        // (B, N, 3, H, Dh) -> (3, B, H, N, Dh): the 3D outputs are [q | k | v], head-major
        Tensor qkvHeads = qkv.forward(x).reshape(b, n, 3, numHeads, headDim).permute(2, 0, 3, 1, 4);
        Tensor q = qkvHeads.select(0, 0);
        Tensor k = qkvHeads.select(0, 1);
        Tensor v = qkvHeads.select(0, 2);
        if (qNorm != null) {
          q = qNorm.forward(q);
          k = kNorm.forward(k);
        }
        q = rope.apply(q);
        k = rope.apply(k);
        // issue 13: bf16 under InferencePrecision, else F.scaledDotProductAttention
        Tensor o =
            dev.rectok.torch.nn.InferencePrecision.attention(q, k, v, 1.0 / Math.sqrt(headDim));
        return s.keep(proj.forward(o.transpose(1, 2).reshape(b, n, c)));
      }
    }
  }

  /**
   * timm-style {@code Mlp} with tanh-GELU ({@code use_swiglu=False}): {@code fc1}, GELU, {@code
   * fc2}.
   */
  static final class Mlp extends UnaryModule {
    final Linear fc1;
    final Linear fc2;

    Mlp(long dim, long hidden) {
      fc1 = registerModule("fc1", new Linear(dim, hidden, true));
      fc2 = registerModule("fc2", new Linear(hidden, dim, true));
    }

    @Override
    public Tensor forward(Tensor x) {
      try (Scope s = Scope.open()) {
        return s.keep(fc2.forward(F.gelu(fc1.forward(x), true)));
      }
    }
  }

  /**
   * {@code LightningDDTBlock}: adaLN-Zero (shift, scale, gate for attention and MLP, in that chunk
   * order) from {@code adaLN_modulation} = SiLU then Linear(D, 6D). The condition is either one
   * vector per sample (B, D) or one per token (B, N, D).
   */
  static final class Block extends Module {
    final UnaryModule norm1;
    final UnaryModule norm2;
    final NormAttention attn;
    final UnaryModule mlp;
    final Sequential adaLNModulation;

    Block(int dim, int numHeads, DiTConfig cfg) {
      norm1 = registerModule("norm1", norm(dim, cfg.useRmsnorm()));
      norm2 = registerModule("norm2", norm(dim, cfg.useRmsnorm()));
      attn =
          registerModule(
              "attn", new NormAttention(dim, numHeads, cfg.useQknorm(), cfg.useRmsnorm()));
      long hidden = DiTConfig.mlpHiddenSize(dim, cfg.mlpRatio(), cfg.useSwiglu());
      mlp =
          registerModule(
              "mlp", cfg.useSwiglu() ? new SwiGLUFFN(dim, hidden) : new Mlp(dim, hidden));
      adaLNModulation =
          registerModule(
              "adaLN_modulation",
              new Sequential(Activation.silu(), new Linear(dim, 6L * dim, true)));
    }

    Linear modulationLinear() {
      return (Linear) adaLNModulation.get(1);
    }

    /**
     * {@code condAct} is the condition after {@code adaLN_modulation}'s SiLU: every block of a path
     * sees the same condition, so the caller computes that SiLU once (for the s-path it is applied
     * on top of silu(t_emb + y_emb): the reference's double SiLU).
     */
    Tensor forward(Tensor x, Tensor condAct, Rope rope) {
      try (Scope s = Scope.open()) {
        Tensor c = condAct.dim() < x.dim() ? condAct.unsqueeze(1) : condAct;
        Tensor[] m = modulationLinear().forward(c).chunk(6, -1);
        // x + gate * f(...) as one addcmul: one pass instead of two (ATen may fuse it to an FMA,
        // which differs from the reference's two roundings by at most an ulp)
        Tensor h = x.addcmul(attn.forward(modulate(norm1.forward(x), m[0], m[1]), rope), m[2], 1.0);
        return s.keep(h.addcmul(mlp.forward(modulate(norm2.forward(h), m[3], m[4])), m[5], 1.0));
      }
    }
  }

  /** {@code DDTFinalLayer}: {@code linear(modulate(norm_final(x), shift, scale))}, no gate. */
  static final class FinalLayer extends Module {
    final UnaryModule normFinal;
    final Linear linear;
    final Sequential adaLNModulation;

    FinalLayer(long hidden, long outChannels, boolean rms) {
      normFinal = registerModule("norm_final", norm(hidden, rms));
      linear = registerModule("linear", new Linear(hidden, outChannels, true));
      adaLNModulation =
          registerModule(
              "adaLN_modulation",
              new Sequential(Activation.silu(), new Linear(hidden, 2 * hidden, true)));
    }

    Linear modulationLinear() {
      return (Linear) adaLNModulation.get(1);
    }

    /**
     * {@code condAct}: the condition after {@code adaLN_modulation}'s SiLU, as for {@link Block}.
     */
    Tensor forward(Tensor x, Tensor condAct) {
      try (Scope s = Scope.open()) {
        Tensor c = condAct.dim() < x.dim() ? condAct.unsqueeze(1) : condAct;
        Tensor[] m = modulationLinear().forward(c).chunk(2, -1);
        return s.keep(linear.forward(modulate(normFinal.forward(x), m[0], m[1])));
      }
    }
  }
}
