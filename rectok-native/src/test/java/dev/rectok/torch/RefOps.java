package dev.rectok.torch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;

/**
 * Plain-Java double-precision references for the neural-network functions, written from their
 * definitions (PyTorch's documentation), plus the comparison helpers the property tests share.
 */
final class RefOps {
  private RefOps() {}

  // ------------------------------------------------------------------ scalar functions

  /**
   * erf to ~1e-15 relative: {@code 2/sqrt(pi) exp(-x^2) sum 2^n x^(2n+1) / (1*3*...*(2n+1))}, a
   * series of positive terms (no cancellation), convergent for every x.
   */
  static double erf(double x) {
    if (x < 0) {
      return -erf(-x);
    }
    if (x > 6) {
      return 1.0;
    }
    double term = x;
    double sum = x;
    for (int n = 1; n < 500; n++) {
      term *= 2 * x * x / (2 * n + 1);
      sum += term;
      if (term < 1e-17 * sum) {
        break;
      }
    }
    return 2 / Math.sqrt(Math.PI) * Math.exp(-x * x) * sum;
  }

  static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  static double gelu(double x) {
    return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
  }

  static double geluTanh(double x) {
    return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
  }

  // ------------------------------------------------------------------ nn functions

  /** {@code x W^T + b} over the last dim of x. */
  static NdArray linear(NdArray x, NdArray w, NdArray b) {
    NdArray y = NdArray.matmul(x, w.transpose(0, 1));
    return b == null ? y : y.add(b);
  }

  /** Layer norm over the trailing {@code k} dims (biased variance). */
  static NdArray layerNorm(NdArray x, int k, NdArray w, NdArray b, double eps) {
    long[] dims = trailing(x.rank(), k);
    NdArray mean = x.mean(dims, true);
    NdArray var = x.var(dims, 0, true);
    NdArray y = x.sub(mean).div(var.add(eps).map(Math::sqrt));
    if (w != null) {
      y = y.mul(w);
    }
    if (b != null) {
      y = y.add(b);
    }
    return y;
  }

  static NdArray rmsNorm(NdArray x, int k, NdArray w, double eps) {
    long[] dims = trailing(x.rank(), k);
    NdArray ms = x.map(v -> v * v).mean(dims, true);
    NdArray y = x.mul(ms.map(v -> 1 / Math.sqrt(v + eps)));
    return w == null ? y : y.mul(w);
  }

  static long[] trailing(int rank, int k) {
    long[] dims = new long[k];
    for (int i = 0; i < k; i++) {
      dims[i] = rank - k + i;
    }
    return dims;
  }

  /** Per-channel vector (C) reshaped to broadcast against (N, C, *). */
  static NdArray channel(NdArray v, int rank) {
    long[] s = new long[rank - 1];
    Arrays.fill(s, 1);
    s[0] = v.shape[0];
    return v.reshape(s);
  }

  static NdArray groupNorm(NdArray x, int groups, NdArray w, NdArray b, double eps) {
    long n = x.shape[0];
    long c = x.shape[1];
    long rest = x.size() / (n * c);
    NdArray g = x.reshape(n, groups, (c / groups) * rest);
    NdArray mean = g.mean(new long[] {2}, true);
    NdArray var = g.var(new long[] {2}, 0, true);
    NdArray y = g.sub(mean).div(var.add(eps).map(Math::sqrt)).reshape(x.shape);
    if (w != null) {
      y = y.mul(channel(w, x.rank()));
    }
    if (b != null) {
      y = y.add(channel(b, x.rank()));
    }
    return y;
  }

  static long[] batchNormDims(int rank) {
    long[] dims = new long[rank - 1];
    dims[0] = 0;
    for (int i = 2; i < rank; i++) {
      dims[i - 1] = i;
    }
    return dims;
  }

  /** Batch norm with the given per-channel mean and (biased or running) variance. */
  static NdArray batchNorm(NdArray x, NdArray mean, NdArray var, NdArray w, NdArray b, double eps) {
    int r = x.rank();
    NdArray y = x.sub(channel(mean, r)).div(channel(var, r).add(eps).map(Math::sqrt));
    if (w != null) {
      y = y.mul(channel(w, r));
    }
    if (b != null) {
      y = y.add(channel(b, r));
    }
    return y;
  }

  /** conv2d on (N, C, H, W) with weight (O, C/groups, kH, kW). */
  static NdArray conv2d(
      NdArray x, NdArray w, NdArray b, int[] stride, int[] pad, int[] dil, int groups) {
    int n = (int) x.shape[0];
    int c = (int) x.shape[1];
    int h = (int) x.shape[2];
    int wd = (int) x.shape[3];
    int o = (int) w.shape[0];
    int cg = (int) w.shape[1];
    int kh = (int) w.shape[2];
    int kw = (int) w.shape[3];
    int oh = (h + 2 * pad[0] - dil[0] * (kh - 1) - 1) / stride[0] + 1;
    int ow = (wd + 2 * pad[1] - dil[1] * (kw - 1) - 1) / stride[1] + 1;
    int og = o / groups;
    double[] out = new double[n * o * oh * ow];
    for (int in = 0; in < n; in++) {
      for (int oc = 0; oc < o; oc++) {
        int g = oc / og;
        for (int y = 0; y < oh; y++) {
          for (int z = 0; z < ow; z++) {
            double s = b == null ? 0 : b.data[oc];
            for (int ic = 0; ic < cg; ic++) {
              int cin = g * cg + ic;
              for (int p = 0; p < kh; p++) {
                int yy = y * stride[0] - pad[0] + p * dil[0];
                if (yy < 0 || yy >= h) {
                  continue;
                }
                for (int q = 0; q < kw; q++) {
                  int zz = z * stride[1] - pad[1] + q * dil[1];
                  if (zz < 0 || zz >= wd) {
                    continue;
                  }
                  s += x.get(in, cin, yy, zz) * w.get(oc, ic, p, q);
                }
              }
            }
            out[((in * o + oc) * oh + y) * ow + z] = s;
          }
        }
      }
    }
    assertThat(c).isEqualTo(cg * groups);
    return NdArray.of(out, n, o, oh, ow);
  }

  /**
   * Output size of a pooling window, PyTorch's formula (ceil mode drops a window starting in the
   * padding).
   */
  static int poolOut(int in, int k, int s, int p, boolean ceil) {
    int num = in + 2 * p - k;
    int out = (ceil ? Math.floorDiv(num + s - 1, s) : Math.floorDiv(num, s)) + 1;
    if (ceil && (out - 1) * s >= in + p) {
      out--;
    }
    return out;
  }

  static NdArray avgPool2d(
      NdArray x, int[] k, int[] s, int[] p, boolean ceil, boolean countIncludePad) {
    int n = (int) x.shape[0];
    int c = (int) x.shape[1];
    int h = (int) x.shape[2];
    int w = (int) x.shape[3];
    int oh = poolOut(h, k[0], s[0], p[0], ceil);
    int ow = poolOut(w, k[1], s[1], p[1], ceil);
    double[] out = new double[n * c * oh * ow];
    for (int a = 0; a < n; a++) {
      for (int ch = 0; ch < c; ch++) {
        for (int y = 0; y < oh; y++) {
          for (int z = 0; z < ow; z++) {
            int hs = y * s[0] - p[0];
            int ws = z * s[1] - p[1];
            int he = Math.min(hs + k[0], h + p[0]);
            int we = Math.min(ws + k[1], w + p[1]);
            int poolSize = (he - hs) * (we - ws);
            hs = Math.max(hs, 0);
            ws = Math.max(ws, 0);
            he = Math.min(he, h);
            we = Math.min(we, w);
            double sum = 0;
            for (int yy = hs; yy < he; yy++) {
              for (int zz = ws; zz < we; zz++) {
                sum += x.get(a, ch, yy, zz);
              }
            }
            int div = countIncludePad ? poolSize : (he - hs) * (we - ws);
            out[((a * c + ch) * oh + y) * ow + z] = sum / div;
          }
        }
      }
    }
    return NdArray.of(out, n, c, oh, ow);
  }

  static NdArray maxPool2d(NdArray x, int[] k, int[] s, int[] p, boolean ceil) {
    int n = (int) x.shape[0];
    int c = (int) x.shape[1];
    int h = (int) x.shape[2];
    int w = (int) x.shape[3];
    int oh = poolOut(h, k[0], s[0], p[0], ceil);
    int ow = poolOut(w, k[1], s[1], p[1], ceil);
    double[] out = new double[n * c * oh * ow];
    for (int a = 0; a < n; a++) {
      for (int ch = 0; ch < c; ch++) {
        for (int y = 0; y < oh; y++) {
          for (int z = 0; z < ow; z++) {
            double m = Double.NEGATIVE_INFINITY;
            for (int yy = Math.max(0, y * s[0] - p[0]);
                yy < Math.min(h, y * s[0] - p[0] + k[0]);
                yy++) {
              for (int zz = Math.max(0, z * s[1] - p[1]);
                  zz < Math.min(w, z * s[1] - p[1] + k[1]);
                  zz++) {
                m = Math.max(m, x.get(a, ch, yy, zz));
              }
            }
            out[((a * c + ch) * oh + y) * ow + z] = m;
          }
        }
      }
    }
    return NdArray.of(out, n, c, oh, ow);
  }

  static NdArray adaptiveAvgPool2d(NdArray x, int oh, int ow) {
    int n = (int) x.shape[0];
    int c = (int) x.shape[1];
    int h = (int) x.shape[2];
    int w = (int) x.shape[3];
    double[] out = new double[n * c * oh * ow];
    for (int a = 0; a < n; a++) {
      for (int ch = 0; ch < c; ch++) {
        for (int y = 0; y < oh; y++) {
          int hs = Math.floorDiv(y * h, oh);
          int he = -Math.floorDiv(-(y + 1) * h, oh);
          for (int z = 0; z < ow; z++) {
            int ws = Math.floorDiv(z * w, ow);
            int we = -Math.floorDiv(-(z + 1) * w, ow);
            double sum = 0;
            for (int yy = hs; yy < he; yy++) {
              for (int zz = ws; zz < we; zz++) {
                sum += x.get(a, ch, yy, zz);
              }
            }
            out[((a * c + ch) * oh + y) * ow + z] = sum / ((he - hs) * (we - ws));
          }
        }
      }
    }
    return NdArray.of(out, n, c, oh, ow);
  }

  /** Source coordinate of output index {@code i} for bilinear resampling. */
  static double sourceIndex(int i, int in, int out, boolean alignCorners) {
    if (alignCorners) {
      return out > 1 ? (double) i * (in - 1) / (out - 1) : 0;
    }
    double src = ((double) in / out) * (i + 0.5) - 0.5;
    return Math.max(src, 0);
  }

  static NdArray bilinear(NdArray x, int oh, int ow, boolean alignCorners) {
    int n = (int) x.shape[0];
    int c = (int) x.shape[1];
    int h = (int) x.shape[2];
    int w = (int) x.shape[3];
    double[] out = new double[n * c * oh * ow];
    for (int a = 0; a < n; a++) {
      for (int ch = 0; ch < c; ch++) {
        for (int y = 0; y < oh; y++) {
          double sy = sourceIndex(y, h, oh, alignCorners);
          int y0 = Math.min((int) Math.floor(sy), h - 1);
          int y1 = Math.min(y0 + 1, h - 1);
          double ly = sy - y0;
          for (int z = 0; z < ow; z++) {
            double sz = sourceIndex(z, w, ow, alignCorners);
            int z0 = Math.min((int) Math.floor(sz), w - 1);
            int z1 = Math.min(z0 + 1, w - 1);
            double lz = sz - z0;
            double v =
                (1 - ly) * ((1 - lz) * x.get(a, ch, y0, z0) + lz * x.get(a, ch, y0, z1))
                    + ly * ((1 - lz) * x.get(a, ch, y1, z0) + lz * x.get(a, ch, y1, z1));
            out[((a * c + ch) * oh + y) * ow + z] = v;
          }
        }
      }
    }
    return NdArray.of(out, n, c, oh, ow);
  }

  /** Rows of {@code weight} (V, D) picked by {@code idx}. */
  static NdArray embedding(NdArray weight, NdArray idx) {
    int d = (int) weight.shape[1];
    long[] os = Arrays.copyOf(idx.shape, idx.rank() + 1);
    os[idx.rank()] = d;
    double[] out = new double[idx.size() * d];
    for (int i = 0; i < idx.size(); i++) {
      System.arraycopy(weight.data, (int) idx.data[i] * d, out, i * d, d);
    }
    return new NdArray(os, out);
  }

  /**
   * {@code softmax(q k^T * scale + mask) v}; causal keeps key j &le; query i. {@code boolMask}
   * (true = attend) and {@code floatMask} are optional and broadcast against (..., L, S).
   */
  static NdArray attention(
      NdArray q,
      NdArray k,
      NdArray v,
      NdArray boolMask,
      NdArray floatMask,
      boolean causal,
      double scale) {
    double sc = scale > 0 ? scale : 1 / Math.sqrt(q.shape[q.rank() - 1]);
    NdArray s = NdArray.matmul(q, k.transpose(-2, -1)).mul(sc);
    int l = (int) s.shape[s.rank() - 2];
    int sl = (int) s.shape[s.rank() - 1];
    if (causal) {
      double[] m = new double[l * sl];
      for (int i = 0; i < l; i++) {
        for (int j = 0; j < sl; j++) {
          m[i * sl + j] = j <= i ? 0 : Double.NEGATIVE_INFINITY;
        }
      }
      s = s.add(NdArray.of(m, l, sl));
    }
    if (boolMask != null) {
      s = NdArray.zip(s, boolMask, (a, b) -> b != 0 ? a : Double.NEGATIVE_INFINITY);
    }
    if (floatMask != null) {
      s = s.add(floatMask);
    }
    return NdArray.matmul(s.softmax(-1), v);
  }

  static double crossEntropy(NdArray logits, long[] target) {
    NdArray lsm = logits.logSoftmax(1);
    int c = (int) logits.shape[1];
    double s = 0;
    for (int i = 0; i < target.length; i++) {
      s -= lsm.data[i * c + (int) target[i]];
    }
    return s / target.length;
  }

  static NdArray cosineSimilarity(NdArray a, NdArray b, long dim) {
    long[] d = {dim};
    NdArray dot = a.mul(b).sum(d, false);
    NdArray na = a.mul(a).sum(d, false).map(Math::sqrt);
    NdArray nb = b.mul(b).sum(d, false).map(Math::sqrt);
    return dot.div(na.mul(nb));
  }

  // ------------------------------------------------------------------ comparison

  /**
   * Asserts shape equality and |actual - expected| <= atol + rtol |expected| elementwise (NaN
   * matches NaN).
   */
  static void assertClose(Tensor actual, NdArray expected, double rtol, double atol) {
    assertThat(actual.shape()).as("shape").containsExactly(expected.shape);
    assertClose(actual.toDoubleArray(), expected.data, rtol, atol);
  }

  static void assertClose(double[] actual, double[] expected, double rtol, double atol) {
    assertThat(actual).as("length").hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      double a = actual[i];
      double e = expected[i];
      if (Double.isNaN(e)) {
        assertThat(Double.isNaN(a))
            .as("element %d of %s is NaN", i, Arrays.toString(actual))
            .isTrue();
        continue;
      }
      if (Double.isInfinite(e)) {
        assertThat(a).as("element %d of %s", i, Arrays.toString(actual)).isEqualTo(e);
        continue;
      }
      double tol = atol + rtol * Math.abs(e);
      if (!(Math.abs(a - e) <= tol)) {
        throw new AssertionError(
            "element "
                + i
                + ": got "
                + a
                + ", expected "
                + e
                + " (|diff| "
                + Math.abs(a - e)
                + " > "
                + tol
                + ")\n actual:   "
                + Arrays.toString(actual)
                + "\n expected: "
                + Arrays.toString(expected));
      }
    }
  }
}
