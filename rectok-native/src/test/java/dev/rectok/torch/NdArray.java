package dev.rectok.torch;

import dev.rectok.api.DType;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.ToDoubleFunction;
import java.util.function.UnaryOperator;

/**
 * A tiny, obviously-correct n-d array of doubles (row-major, dense) with NumPy/PyTorch
 * broadcasting: the reference the native ops are tested against. Immutable by convention; slow on
 * purpose (plain loops over unravelled indices).
 */
final class NdArray {
  final long[] shape;
  final double[] data;

  NdArray(long[] shape, double[] data) {
    if (numel(shape) != data.length) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(shape) + " vs " + data.length + " values");
    }
    this.shape = shape.clone();
    this.data = data;
  }

  static NdArray of(double[] data, long... shape) {
    return new NdArray(shape, data);
  }

  static NdArray scalar(double v) {
    return new NdArray(new long[0], new double[] {v});
  }

  static NdArray zeros(long... shape) {
    return new NdArray(shape, new double[(int) numel(shape)]);
  }

  static NdArray full(double v, long... shape) {
    double[] d = new double[(int) numel(shape)];
    Arrays.fill(d, v);
    return new NdArray(shape, d);
  }

  /** Uniform values in [lo, hi). */
  static NdArray uniform(Random r, double lo, double hi, long... shape) {
    double[] d = new double[(int) numel(shape)];
    for (int i = 0; i < d.length; i++) {
      d[i] = lo + (hi - lo) * r.nextDouble();
    }
    return new NdArray(shape, d);
  }

  /** Integers in [lo, hi] as doubles. */
  static NdArray ints(Random r, int lo, int hi, long... shape) {
    double[] d = new double[(int) numel(shape)];
    for (int i = 0; i < d.length; i++) {
      d[i] = lo + r.nextInt(hi - lo + 1);
    }
    return new NdArray(shape, d);
  }

  /** The values of a tensor of any dtype, as doubles. */
  static NdArray of(Tensor t) {
    return new NdArray(t.shape(), t.toDoubleArray());
  }

  /** A float64 tensor (0-dim arrays give 0-dim tensors). */
  Tensor toTensor() {
    if (shape.length == 0) {
      try (Tensor flat = Tensor.of(data.clone(), 1)) {
        return flat.reshape();
      }
    }
    return Tensor.of(data.clone(), shape);
  }

  /** A tensor of the given dtype (converted from float64). */
  Tensor toTensor(DType dtype) {
    try (Tensor t = toTensor()) {
      return t.to(dtype);
    }
  }

  int rank() {
    return shape.length;
  }

  int size() {
    return data.length;
  }

  static long numel(long[] shape) {
    long n = 1;
    for (long s : shape) {
      n *= s;
    }
    return n;
  }

  static int[] strides(long[] shape) {
    int[] st = new int[shape.length];
    int s = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      st[i] = s;
      s *= (int) shape[i];
    }
    return st;
  }

  static int[] unravel(int flat, long[] shape) {
    int[] idx = new int[shape.length];
    for (int i = shape.length - 1; i >= 0; i--) {
      idx[i] = (int) (flat % shape[i]);
      flat /= (int) shape[i];
    }
    return idx;
  }

  static int ravel(int[] idx, long[] shape) {
    int f = 0;
    for (int i = 0; i < shape.length; i++) {
      f = f * (int) shape[i] + idx[i];
    }
    return f;
  }

  double get(int... idx) {
    return data[ravel(idx, shape)];
  }

  static int wrap(long d, int rank) {
    int r = (int) (d < 0 ? d + rank : d);
    if (r < 0 || r >= rank) {
      throw new IllegalArgumentException("dim " + d + " for rank " + rank);
    }
    return r;
  }

  // ------------------------------------------------------------------ broadcasting

  static long[] broadcastShapes(long[]... shapes) {
    int rank = 0;
    for (long[] s : shapes) {
      rank = Math.max(rank, s.length);
    }
    long[] out = new long[rank];
    Arrays.fill(out, 1);
    for (long[] s : shapes) {
      for (int i = 0; i < s.length; i++) {
        int o = rank - s.length + i;
        if (s[i] != 1) {
          if (out[o] != 1 && out[o] != s[i]) {
            throw new IllegalArgumentException("not broadcastable");
          }
          out[o] = s[i];
        }
      }
    }
    return out;
  }

  NdArray broadcastTo(long[] target) {
    int off = target.length - shape.length;
    double[] d = new double[(int) numel(target)];
    int[] src = new int[shape.length];
    for (int f = 0; f < d.length; f++) {
      int[] idx = unravel(f, target);
      for (int i = 0; i < shape.length; i++) {
        src[i] = shape[i] == 1 ? 0 : idx[off + i];
      }
      d[f] = data[ravel(src, shape)];
    }
    return new NdArray(target, d);
  }

  NdArray map(DoubleUnaryOperator op) {
    double[] d = new double[data.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = op.applyAsDouble(data[i]);
    }
    return new NdArray(shape, d);
  }

  static NdArray zip(NdArray a, NdArray b, DoubleBinaryOperator op) {
    long[] s = broadcastShapes(a.shape, b.shape);
    NdArray x = a.broadcastTo(s);
    NdArray y = b.broadcastTo(s);
    double[] d = new double[x.data.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = op.applyAsDouble(x.data[i], y.data[i]);
    }
    return new NdArray(s, d);
  }

  interface Ternary {
    double apply(double a, double b, double c);
  }

  static NdArray zip3(NdArray a, NdArray b, NdArray c, Ternary op) {
    long[] s = broadcastShapes(a.shape, b.shape, c.shape);
    NdArray x = a.broadcastTo(s);
    NdArray y = b.broadcastTo(s);
    NdArray z = c.broadcastTo(s);
    double[] d = new double[x.data.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = op.apply(x.data[i], y.data[i], z.data[i]);
    }
    return new NdArray(s, d);
  }

  NdArray add(NdArray o) {
    return zip(this, o, Double::sum);
  }

  NdArray sub(NdArray o) {
    return zip(this, o, (a, b) -> a - b);
  }

  NdArray mul(NdArray o) {
    return zip(this, o, (a, b) -> a * b);
  }

  NdArray div(NdArray o) {
    return zip(this, o, (a, b) -> a / b);
  }

  NdArray mul(double s) {
    return map(v -> v * s);
  }

  NdArray add(double s) {
    return map(v -> v + s);
  }

  // ------------------------------------------------------------------ reductions

  static int[] dimsOf(long[] dims, int rank) {
    if (dims.length == 0) {
      int[] all = new int[rank];
      for (int i = 0; i < rank; i++) {
        all[i] = i;
      }
      return all;
    }
    int[] r = new int[dims.length];
    for (int i = 0; i < dims.length; i++) {
      r[i] = wrap(dims[i], rank);
    }
    return r;
  }

  /**
   * Groups the elements by their coordinates outside {@code dims} (each group in row-major order).
   */
  NdArray reduce(long[] dims, boolean keepdim, ToDoubleFunction<double[]> f) {
    int[] ds = dimsOf(dims, rank());
    boolean[] red = new boolean[rank()];
    for (int d : ds) {
      red[d] = true;
    }
    long[] keep = shape.clone();
    for (int d : ds) {
      keep[d] = 1;
    }
    int outN = (int) numel(keep);
    int per = outN == 0 ? 0 : data.length / outN;
    double[][] groups = new double[outN][per];
    int[] fill = new int[outN];
    for (int i = 0; i < data.length; i++) {
      int[] idx = unravel(i, shape);
      for (int d = 0; d < idx.length; d++) {
        if (red[d]) {
          idx[d] = 0;
        }
      }
      int o = ravel(idx, keep);
      groups[o][fill[o]++] = data[i];
    }
    double[] out = new double[outN];
    for (int o = 0; o < outN; o++) {
      out[o] = f.applyAsDouble(groups[o]);
    }
    if (keepdim) {
      return new NdArray(keep, out);
    }
    long[] squeezed = new long[rank() - countTrue(red)];
    int j = 0;
    for (int d = 0; d < rank(); d++) {
      if (!red[d]) {
        squeezed[j++] = shape[d];
      }
    }
    return new NdArray(squeezed, out);
  }

  private static int countTrue(boolean[] b) {
    int n = 0;
    for (boolean x : b) {
      n += x ? 1 : 0;
    }
    return n;
  }

  static double sumOf(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x;
    }
    return s;
  }

  static double meanOf(double[] v) {
    return sumOf(v) / v.length;
  }

  static double varOf(double[] v, long correction) {
    double m = meanOf(v);
    double s = 0;
    for (double x : v) {
      s += (x - m) * (x - m);
    }
    return s / (v.length - correction);
  }

  static double maxOf(double[] v) {
    double m = Double.NEGATIVE_INFINITY;
    for (double x : v) {
      m = Math.max(m, x);
    }
    return m;
  }

  static double minOf(double[] v) {
    double m = Double.POSITIVE_INFINITY;
    for (double x : v) {
      m = Math.min(m, x);
    }
    return m;
  }

  static double argmaxOf(double[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }

  static double argminOf(double[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] < v[best]) {
        best = i;
      }
    }
    return best;
  }

  static double normOf(double[] v, double ord) {
    if (Double.isInfinite(ord)) {
      double m = 0;
      for (double x : v) {
        m = Math.max(m, Math.abs(x));
      }
      return m;
    }
    double s = 0;
    for (double x : v) {
      s += Math.pow(Math.abs(x), ord);
    }
    return Math.pow(s, 1 / ord);
  }

  NdArray sum(long[] dims, boolean keepdim) {
    return reduce(dims, keepdim, NdArray::sumOf);
  }

  NdArray mean(long[] dims, boolean keepdim) {
    return reduce(dims, keepdim, NdArray::meanOf);
  }

  NdArray var(long[] dims, long correction, boolean keepdim) {
    return reduce(dims, keepdim, v -> varOf(v, correction));
  }

  NdArray sumAll() {
    return scalar(sumOf(data));
  }

  /** Applies {@code f} to every 1-D fiber along {@code dim} (same length out). */
  NdArray alongDim(long dim, UnaryOperator<double[]> f) {
    int d = wrap(dim, Math.max(rank(), 1));
    if (rank() == 0) {
      return new NdArray(shape, f.apply(data.clone()));
    }
    int n = (int) shape[d];
    int stride = strides(shape)[d];
    double[] out = new double[data.length];
    for (int i = 0; i < data.length; i++) {
      int[] idx = unravel(i, shape);
      if (idx[d] != 0) {
        continue;
      }
      double[] fiber = new double[n];
      for (int k = 0; k < n; k++) {
        fiber[k] = data[i + k * stride];
      }
      double[] r = f.apply(fiber);
      for (int k = 0; k < n; k++) {
        out[i + k * stride] = r[k];
      }
    }
    return new NdArray(shape, out);
  }

  NdArray cumsum(long dim) {
    return alongDim(
        dim,
        v -> {
          double[] r = new double[v.length];
          double s = 0;
          for (int i = 0; i < v.length; i++) {
            s += v[i];
            r[i] = s;
          }
          return r;
        });
  }

  NdArray softmax(long dim) {
    return alongDim(
        dim,
        v -> {
          double m = maxOf(v);
          double[] r = new double[v.length];
          double s = 0;
          for (int i = 0; i < v.length; i++) {
            r[i] = Math.exp(v[i] - m);
            s += r[i];
          }
          for (int i = 0; i < v.length; i++) {
            r[i] /= s;
          }
          return r;
        });
  }

  NdArray logSoftmax(long dim) {
    return alongDim(
        dim,
        v -> {
          double m = maxOf(v);
          double s = 0;
          for (double x : v) {
            s += Math.exp(x - m);
          }
          double lse = m + Math.log(s);
          double[] r = new double[v.length];
          for (int i = 0; i < v.length; i++) {
            r[i] = v[i] - lse;
          }
          return r;
        });
  }

  // ------------------------------------------------------------------ shape ops

  NdArray reshape(long... newShape) {
    return new NdArray(newShape, data);
  }

  NdArray permute(long... dims) {
    long[] s = new long[rank()];
    for (int i = 0; i < s.length; i++) {
      s[i] = shape[wrap(dims[i], rank())];
    }
    double[] d = new double[data.length];
    int[] src = new int[rank()];
    for (int f = 0; f < d.length; f++) {
      int[] idx = unravel(f, s);
      for (int i = 0; i < idx.length; i++) {
        src[wrap(dims[i], rank())] = idx[i];
      }
      d[f] = data[ravel(src, shape)];
    }
    return new NdArray(s, d);
  }

  NdArray transpose(long d0, long d1) {
    long[] p = new long[rank()];
    for (int i = 0; i < p.length; i++) {
      p[i] = i;
    }
    int a = wrap(d0, rank());
    int b = wrap(d1, rank());
    p[a] = b;
    p[b] = a;
    return permute(p);
  }

  /** {@code t[start:end:step]} along {@code dim}, with Python's clamping of start and end. */
  NdArray slice(long dim, long start, long end, long step) {
    int d = wrap(dim, rank());
    long n = shape[d];
    long s = start < 0 ? Math.max(0, start + n) : Math.min(start, n);
    long e = end < 0 ? Math.max(0, end + n) : Math.min(end, n);
    long len = e > s ? (e - s + step - 1) / step : 0;
    long[] ns = shape.clone();
    ns[d] = len;
    double[] out = new double[(int) numel(ns)];
    for (int f = 0; f < out.length; f++) {
      int[] idx = unravel(f, ns);
      idx[d] = (int) (s + idx[d] * step);
      out[f] = data[ravel(idx, shape)];
    }
    return new NdArray(ns, out);
  }

  NdArray select(long dim, long index) {
    int d = wrap(dim, rank());
    long i = index < 0 ? index + shape[d] : index;
    NdArray s = slice(d, i, i + 1, 1);
    long[] ns = new long[rank() - 1];
    for (int k = 0, j = 0; k < rank(); k++) {
      if (k != d) {
        ns[j++] = shape[k];
      }
    }
    return s.reshape(ns);
  }

  NdArray flip(long... dims) {
    boolean[] fl = new boolean[rank()];
    for (long dd : dims) {
      fl[wrap(dd, rank())] = true;
    }
    double[] out = new double[data.length];
    for (int f = 0; f < out.length; f++) {
      int[] idx = unravel(f, shape);
      for (int k = 0; k < idx.length; k++) {
        if (fl[k]) {
          idx[k] = (int) shape[k] - 1 - idx[k];
        }
      }
      out[f] = data[ravel(idx, shape)];
    }
    return new NdArray(shape, out);
  }

  /** {@code torch.Tensor.repeat}: tiles; more repeats than dims prepends size-1 dims. */
  NdArray repeat(long... reps) {
    long[] src = new long[reps.length];
    Arrays.fill(src, 1);
    System.arraycopy(shape, 0, src, reps.length - rank(), rank());
    NdArray a = reshape(src);
    long[] ns = new long[reps.length];
    for (int i = 0; i < ns.length; i++) {
      ns[i] = src[i] * reps[i];
    }
    double[] out = new double[(int) numel(ns)];
    for (int f = 0; f < out.length; f++) {
      int[] idx = unravel(f, ns);
      for (int k = 0; k < idx.length; k++) {
        idx[k] = (int) (idx[k] % src[k]);
      }
      out[f] = a.data[ravel(idx, src)];
    }
    return new NdArray(ns, out);
  }

  static NdArray cat(List<NdArray> parts, long dim) {
    NdArray first = parts.get(0);
    int d = wrap(dim, first.rank());
    long[] ns = first.shape.clone();
    ns[d] = 0;
    for (NdArray p : parts) {
      ns[d] += p.shape[d];
    }
    double[] out = new double[(int) numel(ns)];
    for (int f = 0; f < out.length; f++) {
      int[] idx = unravel(f, ns);
      int k = idx[d];
      for (NdArray p : parts) {
        if (k < p.shape[d]) {
          idx[d] = k;
          out[f] = p.data[ravel(idx, p.shape)];
          break;
        }
        k -= (int) p.shape[d];
      }
    }
    return new NdArray(ns, out);
  }

  static NdArray stack(List<NdArray> parts, long dim) {
    int rank = parts.get(0).rank() + 1;
    int d = wrap(dim, rank);
    return cat(parts.stream().map(p -> p.unsqueeze(d)).toList(), d);
  }

  NdArray unsqueeze(long dim) {
    int d = wrap(dim, rank() + 1);
    long[] ns = new long[rank() + 1];
    for (int i = 0, j = 0; i < ns.length; i++) {
      ns[i] = i == d ? 1 : shape[j++];
    }
    return reshape(ns);
  }

  // ------------------------------------------------------------------ linear algebra

  /** {@code torch.matmul}: 1-D operands promoted and demoted, batch dims broadcast. */
  static NdArray matmul(NdArray a, NdArray b) {
    boolean aVec = a.rank() == 1;
    boolean bVec = b.rank() == 1;
    NdArray x = aVec ? a.reshape(1, a.shape[0]) : a;
    NdArray y = bVec ? b.reshape(b.shape[0], 1) : b;
    long m = x.shape[x.rank() - 2];
    long k = x.shape[x.rank() - 1];
    long n = y.shape[y.rank() - 1];
    if (y.shape[y.rank() - 2] != k) {
      throw new IllegalArgumentException("inner dims differ");
    }
    long[] batch =
        broadcastShapes(Arrays.copyOf(x.shape, x.rank() - 2), Arrays.copyOf(y.shape, y.rank() - 2));
    long[] xs = Arrays.copyOf(batch, batch.length + 2);
    xs[batch.length] = m;
    xs[batch.length + 1] = k;
    long[] ys = Arrays.copyOf(batch, batch.length + 2);
    ys[batch.length] = k;
    ys[batch.length + 1] = n;
    NdArray xb = x.broadcastTo(xs);
    NdArray yb = y.broadcastTo(ys);
    long[] os = Arrays.copyOf(batch, batch.length + 2);
    os[batch.length] = m;
    os[batch.length + 1] = n;
    int nb = (int) numel(batch);
    double[] out = new double[(int) numel(os)];
    for (int bi = 0; bi < nb; bi++) {
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double s = 0;
          for (int q = 0; q < k; q++) {
            s += xb.data[(int) (bi * m * k + i * k + q)] * yb.data[(int) (bi * k * n + q * n + j)];
          }
          out[(int) (bi * m * n + i * n + j)] = s;
        }
      }
    }
    long[] fs = os;
    if (bVec) {
      fs = Arrays.copyOf(fs, fs.length - 1);
    }
    if (aVec) {
      long[] t = new long[fs.length - 1];
      int drop = bVec ? fs.length - 1 : fs.length - 2;
      for (int i = 0, j = 0; i < fs.length; i++) {
        if (i != drop) {
          t[j++] = fs[i];
        }
      }
      fs = t;
    }
    return new NdArray(fs, out);
  }

  @Override
  public String toString() {
    return "NdArray" + Arrays.toString(shape) + Arrays.toString(data);
  }
}
