package dev.rectok.models.dit;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;

/**
 * The fixed tables of DiT^DH: the 2D sincos {@code pos_embed} ({@code get_2d_sincos_pos_embed}) and
 * the EVA-style RoPE tables ({@code DDTVisionRotaryEmbeddingFast}), computed with the reference's
 * precision (float64 for sincos, float32 for RoPE).
 *
 * <p>Stateless and thread-safe; returned tensors are owned by the caller (or the current {@link
 * Scope}).
 */
public final class DiTTables {
  private DiTTables() {}

  /**
   * {@code get_2d_sincos_pos_embed(embedDim, gridSize)} in float64, shape (g*g, D), tokens
   * row-major (token = h*g + w). The reference builds the grid with {@code np.meshgrid(grid_w,
   * grid_h)}, so the first half of the channels encodes the <b>column</b> w and the second half the
   * row h; each half is [sin | cos] over {@code omega_i = 10000^(-i/(D/4))}.
   */
  public static double[] sincosPosEmbed(int embedDim, int gridSize) {
    if (embedDim % 4 != 0) {
      throw new IllegalArgumentException("embed_dim must be divisible by 4, got " + embedDim);
    }
    int quarter = embedDim / 4;
    double[] omega = new double[quarter];
    for (int i = 0; i < quarter; i++) {
      // numpy: omega = arange(D/4) / (D/4); omega = 1 / 10000**omega (float64)
      omega[i] = 1.0 / Math.pow(10000.0, i / (embedDim / 4.0));
    }
    double[] out = new double[gridSize * gridSize * embedDim];
    for (int h = 0; h < gridSize; h++) {
      for (int w = 0; w < gridSize; w++) {
        int row = (h * gridSize + w) * embedDim;
        for (int i = 0; i < quarter; i++) {
          double aw = w * omega[i];
          double ah = h * omega[i];
          out[row + i] = Math.sin(aw);
          out[row + quarter + i] = Math.cos(aw);
          out[row + 2 * quarter + i] = Math.sin(ah);
          out[row + 3 * quarter + i] = Math.cos(ah);
        }
      }
    }
    return out;
  }

  /** The sincos table as stored in {@code pos_embed}: float32, shape (1, g*g, D). */
  public static Tensor sincosPosEmbedTensor(int embedDim, int gridSize) {
    double[] t = sincosPosEmbed(embedDim, gridSize);
    float[] f = new float[t.length];
    for (int i = 0; i < t.length; i++) {
      f[i] = (float) t[i];
    }
    return Tensor.of(f, 1, (long) gridSize * gridSize, embedDim);
  }

  /**
   * Rotation angles of {@code DDTVisionRotaryEmbeddingFast(dim=headDim/2, pt_seq_len=n)}, float32,
   * shape (n*n, headDim): channel c &lt; dim rotates with the row h at frequency {@code
   * omega_{c/2}}, channel c &ge; dim with the column w at {@code omega_{(c-dim)/2}}; adjacent
   * channel pairs share a frequency (interleaved, EVA style).
   */
  public static float[] ropeAngles(int headDim, int n) {
    if (headDim % 4 != 0) {
      throw new IllegalArgumentException("head_dim must be divisible by 4, got " + headDim);
    }
    int dim = headDim / 2;
    int nf = dim / 2;
    float[] freqs = new float[nf];
    for (int j = 0; j < nf; j++) {
      // torch: 1. / (theta ** (arange(0, dim, 2)[:dim//2].float() / dim)), every op in float32
      float e = (float) (2 * j) / (float) dim;
      freqs[j] = 1.0f / (float) Math.pow(10000.0f, e);
    }
    float[] pos = new float[n];
    for (int i = 0; i < n; i++) {
      // torch: arange(n) / n * pt_seq_len in float32 (integers here, but computed as the reference
      // does)
      pos[i] = ((float) i / (float) n) * (float) n;
    }
    float[] out = new float[n * n * headDim];
    for (int h = 0; h < n; h++) {
      for (int w = 0; w < n; w++) {
        int row = (h * n + w) * headDim;
        for (int c = 0; c < dim; c++) {
          out[row + c] = pos[h] * freqs[c / 2];
          out[row + dim + c] = pos[w] * freqs[c / 2];
        }
      }
    }
    return out;
  }

  /** {@code freqs_cos} of the RoPE table, float32 (n*n, headDim), computed by LibTorch's cos. */
  public static Tensor ropeCos(int headDim, int n) {
    try (Scope s = Scope.open()) {
      return s.keep(Tensor.of(ropeAngles(headDim, n), (long) n * n, headDim).cos());
    }
  }

  /** {@code freqs_sin} of the RoPE table, float32 (n*n, headDim), computed by LibTorch's sin. */
  public static Tensor ropeSin(int headDim, int n) {
    try (Scope s = Scope.open()) {
      return s.keep(Tensor.of(ropeAngles(headDim, n), (long) n * n, headDim).sin());
    }
  }
}
