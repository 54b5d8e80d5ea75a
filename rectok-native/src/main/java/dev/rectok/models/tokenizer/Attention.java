package dev.rectok.models.tokenizer;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Linear;
import dev.rectok.torch.nn.Module;

/**
 * The tokenizer's multi-head self-attention: fused {@code qkv} Linear ([q | k | v], head-major),
 * RoPE on q and k, {@code softmax(q kᵀ / sqrt(D)) v} computed as plain float32 ops (what the golden
 * files were produced with), heads concatenated, {@code proj}. No mask, no dropout. Owns its
 * Linears; eval-mode forward passes may run concurrently.
 *
 * <p>Threading and ownership as for every {@link dev.rectok.torch.nn.Module}: concurrent eval-mode
 * forwards are safe; it owns its parameters.
 */
public final class Attention extends Module {
  private final Linear qkv;
  private final Linear proj;
  private final int numHeads;
  private final long headDim;

  public Attention(long dim, int numHeads) {
    if (dim % numHeads != 0) {
      throw new IllegalArgumentException("dim % num_heads != 0, got " + dim + " and " + numHeads);
    }
    this.numHeads = numHeads;
    this.headDim = dim / numHeads;
    this.qkv = registerModule("qkv", new Linear(dim, dim * 3, true));
    this.proj = registerModule("proj", new Linear(dim, dim, true));
  }

  public long headDim() {
    return headDim;
  }

  /** {@code x} (B, L, dim); {@code rope} (B or 1, L, 2·headDim). */
  public Tensor forward(Tensor x, Tensor rope) {
    long b = x.size(0);
    long n = x.size(1);
    long c = x.size(2);
    try (Scope s = Scope.open()) {
      // "b n (qkv h d) -> qkv b h n d"
      Tensor parts = qkv.forward(x).view(b, n, 3, numHeads, headDim).permute(2, 0, 3, 1, 4);
      Tensor q = TokenizerRope.apply(parts.select(0, 0), rope);
      Tensor k = TokenizerRope.apply(parts.select(0, 1), rope);
      Tensor v = parts.select(0, 2);
      // Fused on LibTorch 2.x (flash / memory-efficient on CUDA); on 1.13 the exact composite.
      // issue 13: bf16 under InferencePrecision, else F.scaledDotProductAttention
      Tensor o =
          dev.rectok.torch.nn.InferencePrecision.attention(q, k, v, 1.0 / Math.sqrt(headDim));
      return s.keep(proj.forward(o.transpose(1, 2).reshape(b, n, c)));
    }
  }
}
