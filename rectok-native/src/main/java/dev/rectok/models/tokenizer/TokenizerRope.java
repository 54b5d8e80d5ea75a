package dev.rectok.models.tokenizer;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.F;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;

/**
 * The tokenizer's 2D RoPE ({@code get_rope_tensor} / {@code apply_rotary_emb} of {@code
 * models/rectok.py}), reproduced with its quirk: adjacent channels (2i, 2i+1) are rotated together
 * by {@code rotate_half} although they carry different frequencies (docs/tokenizer.md#rope). The
 * trained weights expect exactly this, so it is not "fixed" here.
 *
 * <p>Stateless and thread-safe; results belong to the caller (or the current {@link Scope}).
 */
public final class TokenizerRope {
  private static final double MAX_FREQ = 7.0;
  private static final double MIN_FREQ = 7e-4;

  private TokenizerRope() {}

  /**
   * {@code get_rope_tensor(headDim, seqH, seqW)}: (seqH·seqW, 2·headDim) = [cos | sin] of the
   * angles, tokens row-major. Built with the same float32 LibTorch ops as the reference ({@code
   * linspace}, {@code pow}, {@code cartesian_prod}, matmul) so it matches bit for bit.
   */
  public static Tensor table(int headDim, int seqH, int seqW) {
    if (headDim <= 0 || headDim % 4 != 0) {
      throw new IllegalArgumentException(
          "head dim must be a positive multiple of 4, got " + headDim);
    }
    int k = headDim / 4;
    int half = headDim / 2;
    try (Scope s = Scope.open()) {
      // freqs_1d = max_freq * (max_freq / min_freq) ** linspace(0, -1, K), all float32
      Tensor exps = Tensor.linspace(0, -1, k, DType.FLOAT32, Device.CPU);
      Tensor base = Tensor.full(new long[] {k}, MAX_FREQ / MIN_FREQ, DType.FLOAT32, Device.CPU);
      Tensor f1 = base.pow(exps).mul(MAX_FREQ);
      // [f, f] as one block (not interleaved): the quirk's origin
      Tensor f2 = Tensor.cat(new Tensor[] {f1, f1}, 0);
      Tensor zeros = Tensor.zeros(half);
      Tensor rowH = Tensor.cat(new Tensor[] {f2, zeros}, 0);
      Tensor rowW = Tensor.cat(new Tensor[] {zeros, f2}, 0);
      Tensor freqs2d = Tensor.stack(new Tensor[] {rowH, rowW}, 0).mul(2.0).mul(Math.PI);
      // cartesian_prod(linspace(0, 1, h), linspace(0, 1, w)): row-major (h, w) pairs
      Tensor ch = Tensor.linspace(0, 1, seqH, DType.FLOAT32, Device.CPU);
      Tensor cw = Tensor.linspace(0, 1, seqW, DType.FLOAT32, Device.CPU);
      Tensor hh = ch.view(seqH, 1).expand(seqH, seqW).reshape((long) seqH * seqW);
      Tensor ww = cw.view(1, seqW).expand(seqH, seqW).reshape((long) seqH * seqW);
      Tensor coords = Tensor.stack(new Tensor[] {hh, ww}, 1);
      Tensor angle = coords.matmul(freqs2d);
      return s.keep(Tensor.cat(new Tensor[] {angle.cos(), angle.sin()}, 1));
    }
  }

  /**
   * {@code apply_rotary_emb(x, rope)}: {@code x * cos + rotate_half(x) * sin} with x of shape (B,
   * heads, L, D) and {@code rope} of shape (B or 1, L, 2D).
   */
  public static Tensor apply(Tensor x, Tensor rope) {
    long d = x.size(3);
    try (Scope s = Scope.open()) {
      Tensor r = rope.unsqueeze(1);
      Tensor cos = r.narrow(3, 0, d);
      Tensor sin = r.narrow(3, d, d);
      return s.keep(F.applyRotaryEmb(x, cos, sin));
    }
  }
}
