package dev.rectok.torch;

import static dev.rectok.torch.RefOps.assertClose;
import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.io.HostTensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Every tensor op against the plain-Java double-precision reference ({@link NdArray}, {@link
 * RefOps}) on random shapes and values, broadcasting included. float64 is held to 1e-12, float32 to
 * ~1e-5.
 */
class OpsPropertyTest {
  static final double R64 = 1e-12;
  static final double R32 = 1e-5;

  private static long liveBefore;

  @BeforeContainer
  static void countHandles() {
    liveBefore = Tensor.liveHandles();
  }

  @AfterContainer
  static void nothingLeaked() {
    // every tensor of every try was closed by its scope
    assertThat(Tensor.liveHandles()).isLessThanOrEqualTo(liveBefore);
  }

  // ------------------------------------------------------------------ generators

  /** Two shapes that broadcast together: size-1 dims and missing leading dims included. */
  record Shapes(long[] a, long[] b) {
    @Override
    public String toString() {
      return Arrays.toString(a) + " with " + Arrays.toString(b);
    }
  }

  @Provide
  Arbitrary<long[]> shape() {
    return Arbitraries.longs().between(1, 4).array(long[].class).ofMaxSize(4);
  }

  @Provide
  Arbitrary<long[]> shape1() {
    return Arbitraries.longs().between(1, 4).array(long[].class).ofMinSize(1).ofMaxSize(4);
  }

  @Provide
  Arbitrary<Shapes> broadcastPair() {
    Arbitrary<Integer> drop = Arbitraries.integers().between(0, 4);
    Arbitrary<Integer> ones = Arbitraries.integers().between(0, 15);
    return Combinators.combine(shape(), drop, drop, ones, ones)
        .as((out, da, db, oa, ob) -> new Shapes(derive(out, da, oa), derive(out, db, ob)));
  }

  private static long[] derive(long[] out, int drop, int ones) {
    long[] s = Arrays.copyOfRange(out, Math.min(drop, out.length), out.length);
    for (int i = 0; i < s.length; i++) {
      if (((ones >> i) & 1) == 1) {
        s[i] = 1;
      }
    }
    return s;
  }

  static DType dt(boolean f32) {
    return f32 ? DType.FLOAT32 : DType.FLOAT64;
  }

  static double tol(DType dt) {
    return dt == DType.FLOAT32 ? R32 : R64;
  }

  /** Values as the dtype holds them (float32 rounding), so the reference sees the same inputs. */
  static NdArray in(DType dt, NdArray a) {
    return dt == DType.FLOAT32 ? a.map(v -> (float) v) : a;
  }

  static double in(DType dt, double v) {
    return dt == DType.FLOAT32 ? (float) v : v;
  }

  /** Non-zero values with |v| in [0.5, 3). */
  static NdArray awayFromZero(Random r, long[] shape) {
    return NdArray.uniform(r, 0.5, 3, shape).map(v -> r.nextBoolean() ? v : -v);
  }

  /** A random subset of dims (some written negative); empty means "all dims". */
  static long[] randomDims(Random r, int rank) {
    List<Long> ds = new ArrayList<>();
    for (int d = 0; d < rank; d++) {
      if (r.nextBoolean()) {
        ds.add(r.nextBoolean() ? d : (long) d - rank);
      }
    }
    return ds.stream().mapToLong(Long::longValue).toArray();
  }

  static long[] randomShape(Random r, int minRank, int maxRank, int maxSize) {
    long[] s = new long[minRank + r.nextInt(maxRank - minRank + 1)];
    for (int i = 0; i < s.length; i++) {
      s[i] = 1 + r.nextInt(maxSize);
    }
    return s;
  }

  static long[] concat(long[] a, long... b) {
    long[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  // ------------------------------------------------------------------ elementwise

  enum Bin {
    ADD,
    ADD_ALPHA,
    SUB,
    SUB_ALPHA,
    MUL,
    DIV,
    POW,
    MAXIMUM,
    MINIMUM
  }

  @Property(tries = 160)
  void binaryOpsBroadcast(
      @ForAll("broadcastPair") Shapes s, @ForAll Bin op, @ForAll boolean f32, @ForAll long seed) {
    Random r = new Random(seed);
    DType dt = dt(f32);
    NdArray a =
        in(
            dt,
            op == Bin.POW ? NdArray.uniform(r, 0.1, 3, s.a()) : NdArray.uniform(r, -3, 3, s.a()));
    NdArray b =
        in(
            dt,
            switch (op) {
              case DIV -> awayFromZero(r, s.b());
              case POW -> NdArray.uniform(r, -2, 2, s.b());
              default -> NdArray.uniform(r, -3, 3, s.b());
            });
    double alpha = in(dt, -2 + 4 * r.nextDouble());
    try (Scope sc = Scope.open()) {
      Tensor x = a.toTensor(dt);
      Tensor y = b.toTensor(dt);
      Tensor out =
          switch (op) {
            case ADD -> x.add(y);
            case ADD_ALPHA -> x.add(y, alpha);
            case SUB -> x.sub(y);
            case SUB_ALPHA -> x.sub(y, alpha);
            case MUL -> x.mul(y);
            case DIV -> x.div(y);
            case POW -> x.pow(y);
            case MAXIMUM -> x.maximum(y);
            case MINIMUM -> x.minimum(y);
          };
      NdArray ref =
          switch (op) {
            case ADD -> NdArray.zip(a, b, Double::sum);
            case ADD_ALPHA -> NdArray.zip(a, b, (p, q) -> p + alpha * q);
            case SUB -> NdArray.zip(a, b, (p, q) -> p - q);
            case SUB_ALPHA -> NdArray.zip(a, b, (p, q) -> p - alpha * q);
            case MUL -> NdArray.zip(a, b, (p, q) -> p * q);
            case DIV -> NdArray.zip(a, b, (p, q) -> p / q);
            case POW -> NdArray.zip(a, b, Math::pow);
            case MAXIMUM -> NdArray.zip(a, b, Math::max);
            case MINIMUM -> NdArray.zip(a, b, Math::min);
          };
      assertThat(out.dtype()).isEqualTo(dt);
      assertClose(out, ref, tol(dt), tol(dt));
    }
  }

  enum Sc {
    ADD,
    SUB,
    MUL,
    DIV,
    POW,
    RSUB
  }

  @Property(tries = 120)
  void scalarOps(
      @ForAll("shape") long[] shape, @ForAll Sc op, @ForAll boolean f32, @ForAll long seed) {
    Random r = new Random(seed);
    DType dt = dt(f32);
    NdArray a =
        in(dt, op == Sc.POW ? NdArray.uniform(r, 0.1, 3, shape) : NdArray.uniform(r, -3, 3, shape));
    double[] exponents = {2, 3, 0.5, -0.5, -1, -2, 0, 1, 1.7, -2.3};
    double v =
        switch (op) {
          case POW -> exponents[r.nextInt(exponents.length)];
          case DIV -> (r.nextBoolean() ? 1 : -1) * (0.5 + 2.5 * r.nextDouble());
          default -> -3 + 6 * r.nextDouble();
        };
    double vv = in(dt, v);
    try (Scope sc = Scope.open()) {
      Tensor x = a.toTensor(dt);
      Tensor out =
          switch (op) {
            case ADD -> x.add(v);
            case SUB -> x.sub(v);
            case MUL -> x.mul(v);
            case DIV -> x.div(v);
            case POW -> x.pow(v);
            case RSUB -> x.rsub(v);
          };
      NdArray ref =
          switch (op) {
            case ADD -> a.map(p -> p + vv);
            case SUB -> a.map(p -> p - vv);
            case MUL -> a.map(p -> p * vv);
            case DIV -> a.map(p -> p / v);
            case POW -> a.map(p -> Math.pow(p, v));
            case RSUB -> a.map(p -> vv - p);
          };
      assertThat(out.dtype()).isEqualTo(dt);
      assertClose(out, ref, tol(dt), tol(dt));
    }
  }

  enum Cmp {
    EQ,
    NE,
    LT,
    LE,
    GT,
    GE
  }

  static boolean cmp(Cmp c, double a, double b) {
    return switch (c) {
      case EQ -> a == b;
      case NE -> a != b;
      case LT -> a < b;
      case LE -> a <= b;
      case GT -> a > b;
      case GE -> a >= b;
    };
  }

  static Tensor cmp(Cmp c, Tensor a, Tensor b) {
    return switch (c) {
      case EQ -> a.eq(b);
      case NE -> a.ne(b);
      case LT -> a.lt(b);
      case LE -> a.le(b);
      case GT -> a.gt(b);
      case GE -> a.ge(b);
    };
  }

  static Tensor cmp(Cmp c, Tensor a, double b) {
    return switch (c) {
      case EQ -> a.eq(b);
      case NE -> a.ne(b);
      case LT -> a.lt(b);
      case LE -> a.le(b);
      case GT -> a.gt(b);
      case GE -> a.ge(b);
    };
  }

  @Property(tries = 120)
  void comparisons(
      @ForAll("broadcastPair") Shapes s, @ForAll Cmp c, @ForAll boolean f32, @ForAll long seed) {
    Random r = new Random(seed);
    DType dt = dt(f32);
    // few distinct values, so that equality is frequent
    NdArray a = NdArray.ints(r, -2, 2, s.a()).mul(0.5);
    NdArray b = NdArray.ints(r, -2, 2, s.b()).mul(0.5);
    double v = 0.5 * (r.nextInt(5) - 2);
    try (Scope sc = Scope.open()) {
      Tensor x = a.toTensor(dt);
      Tensor tt = cmp(c, x, b.toTensor(dt));
      Tensor ts = cmp(c, x, v);
      assertThat(tt.dtype()).isEqualTo(DType.BOOL);
      assertThat(ts.dtype()).isEqualTo(DType.BOOL);
      assertClose(tt, NdArray.zip(a, b, (p, q) -> cmp(c, p, q) ? 1 : 0), 0, 0);
      assertClose(ts, a.map(p -> cmp(c, p, v) ? 1 : 0), 0, 0);
    }
  }

  @Property(tries = 80)
  void clampLerpWhere(@ForAll("broadcastPair") Shapes s, @ForAll boolean f32, @ForAll long seed) {
    Random r = new Random(seed);
    DType dt = dt(f32);
    NdArray a = in(dt, NdArray.uniform(r, -3, 3, s.a()));
    NdArray b = in(dt, NdArray.uniform(r, -3, 3, s.b()));
    double lo = in(dt, -2 + 2 * r.nextDouble());
    double hi = in(dt, lo + 2 * r.nextDouble());
    double w = in(dt, -0.5 + 2 * r.nextDouble());
    NdArray cond = NdArray.ints(r, 0, 1, s.b());
    try (Scope sc = Scope.open()) {
      Tensor x = a.toTensor(dt);
      Tensor y = b.toTensor(dt);
      double t = tol(dt);
      assertClose(x.clamp(lo, hi), a.map(p -> Math.min(Math.max(p, lo), hi)), t, t);
      assertClose(x.clamp(lo, Double.NaN), a.map(p -> Math.max(p, lo)), t, t);
      assertClose(x.clamp(Double.NaN, hi), a.map(p -> Math.min(p, hi)), t, t);
      assertClose(x.lerp(y, w), NdArray.zip(a, b, (p, q) -> p + w * (q - p)), 4 * t, 4 * t);
      Tensor c = cond.toTensor(DType.BOOL);
      assertThat(c.dtype()).isEqualTo(DType.BOOL);
      // three-way broadcast: condition and y share a shape, x has the other one
      assertClose(
          Tensor.where(c, x, y), NdArray.zip3(cond, a, b, (k, p, q) -> k != 0 ? p : q), 0, 0);
    }
  }

  enum Un {
    NEG(Tensor::neg, v -> -v),
    ABS(Tensor::abs, Math::abs),
    SQRT(Tensor::sqrt, Math::sqrt),
    RSQRT(Tensor::rsqrt, v -> 1 / Math.sqrt(v)),
    EXP(Tensor::exp, Math::exp),
    LOG(Tensor::log, Math::log),
    SIN(Tensor::sin, Math::sin),
    COS(Tensor::cos, Math::cos),
    TANH(Tensor::tanh, Math::tanh),
    SIGMOID(Tensor::sigmoid, RefOps::sigmoid),
    RELU(Tensor::relu, v -> Math.max(v, 0)),
    SILU(Tensor::silu, v -> v * RefOps.sigmoid(v)),
    ERF(Tensor::erf, RefOps::erf),
    FLOOR(Tensor::floor, Math::floor),
    ROUND(Tensor::round, Math::rint),
    SIGN(Tensor::sign, Math::signum),
    GELU(t -> F.gelu(t, false), RefOps::gelu),
    GELU_TANH(t -> F.gelu(t, true), RefOps::geluTanh),
    LEAKY_RELU(t -> F.leakyRelu(t, 0.125), v -> v > 0 ? v : 0.125 * v);

    final Function<Tensor, Tensor> op;
    final DoubleUnaryOperator ref;

    Un(Function<Tensor, Tensor> op, DoubleUnaryOperator ref) {
      this.op = op;
      this.ref = ref;
    }

    boolean positiveDomain() {
      return this == SQRT || this == RSQRT || this == LOG;
    }

    boolean roundingLike() {
      return this == FLOOR
          || this == ROUND
          || this == SIGN
          || this == ABS
          || this == RELU
          || this == NEG;
    }
  }

  @Property(tries = 160)
  void unaryOps(
      @ForAll("shape") long[] shape, @ForAll Un op, @ForAll boolean f32, @ForAll long seed) {
    Random r = new Random(seed);
    DType dt = dt(f32);
    NdArray a;
    if (op.positiveDomain()) {
      a = NdArray.uniform(r, 0.05, 5, shape);
    } else if (op.roundingLike() && r.nextBoolean()) {
      // halves, integers and zeros: round half to even, floor of integers, sign(0) = 0
      a = NdArray.ints(r, -7, 7, shape).mul(0.5);
    } else {
      a = NdArray.uniform(r, -4, 4, shape);
    }
    a = in(dt, a);
    try (Scope sc = Scope.open()) {
      Tensor out = op.op.apply(a.toTensor(dt));
      assertThat(out.dtype()).isEqualTo(dt);
      assertClose(out, a.map(op.ref), tol(dt), tol(dt));
    }
  }

  @Example
  void roundIsHalfToEven() {
    try (Scope sc = Scope.open()) {
      Tensor t = Tensor.of(new double[] {-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5});
      assertThat(t.round().toDoubleArray()).containsExactly(-2, -2, -0.0, 0, 2, 2, 4);
    }
  }

  // ------------------------------------------------------------------ reductions

  enum Red {
    SUM,
    MEAN,
    VAR0,
    VAR1
  }

  @Property(tries = 160)
  void reductionsOverDimSubsets(
      @ForAll("shape") long[] shape,
      @ForAll Red red,
      @ForAll boolean keepdim,
      @ForAll boolean f32,
      @ForAll long seed) {
    Random r = new Random(seed);
    DType dt = dt(f32);
    NdArray a = in(dt, NdArray.uniform(r, -3, 3, shape));
    long[] dims = randomDims(r, shape.length);
    try (Scope sc = Scope.open()) {
      Tensor x = a.toTensor(dt);
      Tensor out =
          switch (red) {
            case SUM -> x.sum(dims, keepdim);
            case MEAN -> x.mean(dims, keepdim);
            case VAR0 -> x.var(dims, 0, keepdim);
            case VAR1 -> x.var(dims, 1, keepdim);
          };
      NdArray ref =
          switch (red) {
            case SUM -> a.sum(dims, keepdim);
            case MEAN -> a.mean(dims, keepdim);
            case VAR0 -> a.var(dims, 0, keepdim);
            case VAR1 -> a.var(dims, 1, keepdim);
          };
      assertClose(out, ref, 10 * tol(dt), 10 * tol(dt));
      // the no-argument forms reduce everything to a 0-dim tensor
      assertClose(x.sum(), a.sumAll(), 10 * tol(dt), 10 * tol(dt));
      assertClose(x.mean(), a.mean(new long[0], false), 10 * tol(dt), 10 * tol(dt));
    }
  }

  @Property(tries = 100)
  void maxMinArgmax(
      @ForAll("shape1") long[] shape,
      @ForAll boolean keepdim,
      @ForAll boolean f32,
      @ForAll long seed) {
    Random r = new Random(seed);
    DType dt = dt(f32);
    NdArray a = in(dt, NdArray.uniform(r, -3, 3, shape)); // continuous: no ties
    long dim = r.nextInt(2 * shape.length) - shape.length;
    long[] d = {dim};
    try (Scope sc = Scope.open()) {
      Tensor x = a.toTensor(dt);
      assertThat(x.max().dim()).isZero();
      assertThat(x.max().item()).isEqualTo(NdArray.maxOf(a.data));
      assertThat(x.min().item()).isEqualTo(NdArray.minOf(a.data));
      Tensor.ValuesIndices mx = x.max(dim, keepdim);
      Tensor.ValuesIndices mn = x.min(dim, keepdim);
      assertClose(mx.values(), a.reduce(d, keepdim, NdArray::maxOf), 0, 0);
      assertClose(mn.values(), a.reduce(d, keepdim, NdArray::minOf), 0, 0);
      assertThat(mx.indices().dtype()).isEqualTo(DType.INT64);
      assertClose(mx.indices(), a.reduce(d, keepdim, NdArray::argmaxOf), 0, 0);
      assertClose(mn.indices(), a.reduce(d, keepdim, NdArray::argminOf), 0, 0);
      assertThat(x.argmax(dim, keepdim).equal(mx.indices())).isTrue();
    }
  }

  @Property(tries = 100)
  void cumsumAndVectorNorm(
      @ForAll("shape1") long[] shape,
      @ForAll boolean keepdim,
      @ForAll boolean f32,
      @ForAll @IntRange(min = 0, max = 3) int ordIndex,
      @ForAll long seed) {
    Random r = new Random(seed);
    DType dt = dt(f32);
    NdArray a = in(dt, NdArray.uniform(r, -3, 3, shape));
    long dim = r.nextInt(2 * shape.length) - shape.length;
    double ord = new double[] {1, 2, 3, Double.POSITIVE_INFINITY}[ordIndex];
    long[] dims = randomDims(r, shape.length);
    try (Scope sc = Scope.open()) {
      Tensor x = a.toTensor(dt);
      assertClose(x.cumsum(dim), a.cumsum(dim), 10 * tol(dt), 10 * tol(dt));
      assertClose(
          x.vectorNorm(ord, dims, keepdim),
          a.reduce(dims, keepdim, v -> NdArray.normOf(v, ord)),
          10 * tol(dt),
          10 * tol(dt));
    }
  }

  // ------------------------------------------------------------------ linear algebra

  @Property(tries = 160)
  void matmulBroadcastsBatchesAndVectors(@ForAll boolean f32, @ForAll long seed) {
    Random r = new Random(seed);
    DType dt = dt(f32);
    long m = 1 + r.nextInt(4);
    long k = 1 + r.nextInt(4);
    long n = 1 + r.nextInt(4);
    long[] batch = randomShape(r, 0, 2, 3);
    long[] ba = derive(batch, r.nextInt(3), r.nextInt(4));
    long[] bb = derive(batch, r.nextInt(3), r.nextInt(4));
    // 1-D operands (vector) in a quarter of the cases: 1-D x 1-D is a dot product
    long[] sa = r.nextInt(4) == 0 ? new long[] {k} : concat(ba, m, k);
    long[] sb = r.nextInt(4) == 0 ? new long[] {k} : concat(bb, k, n);
    NdArray a = in(dt, NdArray.uniform(r, -2, 2, sa));
    NdArray b = in(dt, NdArray.uniform(r, -2, 2, sb));
    try (Scope sc = Scope.open()) {
      Tensor out = a.toTensor(dt).matmul(b.toTensor(dt));
      assertClose(out, NdArray.matmul(a, b), 10 * tol(dt), 10 * tol(dt));
    }
  }

  @Property(tries = 80)
  void bmmAndLinear(@ForAll boolean f32, @ForAll boolean withBias, @ForAll long seed) {
    Random r = new Random(seed);
    DType dt = dt(f32);
    long bsz = 1 + r.nextInt(3);
    long m = 1 + r.nextInt(4);
    long k = 1 + r.nextInt(4);
    long n = 1 + r.nextInt(4);
    NdArray a = in(dt, NdArray.uniform(r, -2, 2, bsz, m, k));
    NdArray b = in(dt, NdArray.uniform(r, -2, 2, bsz, k, n));
    long[] xs = concat(randomShape(r, 0, 2, 3), k);
    NdArray x = in(dt, NdArray.uniform(r, -2, 2, xs));
    NdArray w = in(dt, NdArray.uniform(r, -2, 2, n, k));
    NdArray bias = withBias ? in(dt, NdArray.uniform(r, -2, 2, n)) : null;
    try (Scope sc = Scope.open()) {
      assertClose(
          a.toTensor(dt).bmm(b.toTensor(dt)), NdArray.matmul(a, b), 10 * tol(dt), 10 * tol(dt));
      Tensor y = F.linear(x.toTensor(dt), w.toTensor(dt), withBias ? bias.toTensor(dt) : null);
      assertClose(y, RefOps.linear(x, w, bias), 10 * tol(dt), 10 * tol(dt));
    }
  }

  // ------------------------------------------------------------------ nn functions

  @Property(tries = 100)
  void softmaxAndLogSoftmax(
      @ForAll("shape1") long[] shape, @ForAll boolean f32, @ForAll long seed) {
    Random r = new Random(seed);
    DType dt = dt(f32);
    NdArray a = in(dt, NdArray.uniform(r, -5, 5, shape));
    long dim = r.nextInt(2 * shape.length) - shape.length;
    try (Scope sc = Scope.open()) {
      Tensor x = a.toTensor(dt);
      Tensor sm = F.softmax(x, dim);
      assertClose(sm, a.softmax(dim), 10 * tol(dt), 10 * tol(dt));
      assertClose(F.logSoftmax(x, dim), a.logSoftmax(dim), 10 * tol(dt), 10 * tol(dt));
      // rows sum to one
      assertClose(
          sm.sum(new long[] {dim}, false),
          a.sum(new long[] {dim}, false).map(v -> 1),
          10 * tol(dt),
          0);
    }
  }

  @Property(tries = 100)
  void layerNormAndRmsNorm(
      @ForAll("shape1") long[] shape,
      @ForAll boolean affine,
      @ForAll boolean f32,
      @ForAll long seed) {
    Random r = new Random(seed);
    DType dt = dt(f32);
    NdArray a = in(dt, NdArray.uniform(r, -3, 3, shape));
    int k = 1 + r.nextInt(shape.length);
    long[] ns = Arrays.copyOfRange(shape, shape.length - k, shape.length);
    NdArray w = affine ? in(dt, NdArray.uniform(r, -2, 2, ns)) : null;
    NdArray b = affine ? in(dt, NdArray.uniform(r, -2, 2, ns)) : null;
    double eps = r.nextBoolean() ? 1e-5 : 0.1;
    try (Scope sc = Scope.open()) {
      Tensor x = a.toTensor(dt);
      Tensor wt = affine ? w.toTensor(dt) : null;
      Tensor bt = affine ? b.toTensor(dt) : null;
      double t = f32 ? 1e-4 : 1e-10;
      assertClose(F.layerNorm(x, ns, wt, bt, eps), RefOps.layerNorm(a, k, w, b, eps), t, t);
      assertClose(F.rmsNorm(x, ns, wt, eps), RefOps.rmsNorm(a, k, w, eps), t, t);
    }
  }

  @Property(tries = 80)
  void groupNorm(
      @ForAll @IntRange(min = 1, max = 3) int groups,
      @ForAll @IntRange(min = 1, max = 2) int perGroup,
      @ForAll boolean affine,
      @ForAll long seed) {
    Random r = new Random(seed);
    long c = (long) groups * perGroup;
    long[] shape = concat(new long[] {1 + r.nextInt(3), c}, randomShape(r, 0, 2, 3));
    if (c == groups && NdArray.numel(shape) / (shape[0] * c) == 1) {
      shape = concat(shape, 2); // at least two values per group
    }
    NdArray a = NdArray.uniform(r, -3, 3, shape);
    NdArray w = affine ? NdArray.uniform(r, -2, 2, c) : null;
    NdArray b = affine ? NdArray.uniform(r, -2, 2, c) : null;
    try (Scope sc = Scope.open()) {
      Tensor out =
          F.groupNorm(
              a.toTensor(),
              groups,
              affine ? w.toTensor() : null,
              affine ? b.toTensor() : null,
              1e-5);
      assertClose(out, RefOps.groupNorm(a, groups, w, b, 1e-5), 1e-10, 1e-10);
    }
  }

  @Property(tries = 80)
  void batchNormEvalUsesRunningStats(
      @ForAll @IntRange(min = 1, max = 3) int channels, @ForAll boolean affine, @ForAll long seed) {
    Random r = new Random(seed);
    long[] shape = concat(new long[] {1 + r.nextInt(3), channels}, randomShape(r, 0, 2, 3));
    NdArray a = NdArray.uniform(r, -3, 3, shape);
    NdArray rm = NdArray.uniform(r, -1, 1, channels);
    NdArray rv = NdArray.uniform(r, 0.5, 2, channels);
    NdArray w = affine ? NdArray.uniform(r, -2, 2, channels) : null;
    NdArray b = affine ? NdArray.uniform(r, -2, 2, channels) : null;
    try (Scope sc = Scope.open()) {
      Tensor runMean = rm.toTensor();
      Tensor runVar = rv.toTensor();
      Tensor out =
          F.batchNorm(
              a.toTensor(),
              runMean,
              runVar,
              affine ? w.toTensor() : null,
              affine ? b.toTensor() : null,
              false,
              0.1,
              1e-5);
      assertClose(out, RefOps.batchNorm(a, rm, rv, w, b, 1e-5), 1e-12, 1e-12);
      // eval mode leaves the running statistics alone
      assertClose(runMean, rm, 0, 0);
      assertClose(runVar, rv, 0, 0);
    }
  }

  @Property(tries = 80)
  void batchNormTrainingNormalizesAndUpdatesRunningStats(
      @ForAll @IntRange(min = 1, max = 3) int channels, @ForAll boolean affine, @ForAll long seed) {
    Random r = new Random(seed);
    long[] shape = concat(new long[] {2 + r.nextInt(2), channels}, randomShape(r, 0, 2, 3));
    NdArray a = NdArray.uniform(r, -3, 3, shape);
    NdArray rm = NdArray.uniform(r, -1, 1, channels);
    NdArray rv = NdArray.uniform(r, 0.5, 2, channels);
    NdArray w = affine ? NdArray.uniform(r, -2, 2, channels) : null;
    NdArray b = affine ? NdArray.uniform(r, -2, 2, channels) : null;
    double momentum = 0.05 + 0.9 * r.nextDouble();
    long[] dims = RefOps.batchNormDims(shape.length);
    NdArray mean = a.mean(dims, false);
    NdArray biased = a.var(dims, 0, false);
    NdArray unbiased = a.var(dims, 1, false);
    try (Scope sc = Scope.open()) {
      Tensor runMean = rm.toTensor();
      Tensor runVar = rv.toTensor();
      Tensor out =
          F.batchNorm(
              a.toTensor(),
              runMean,
              runVar,
              affine ? w.toTensor() : null,
              affine ? b.toTensor() : null,
              true,
              momentum,
              1e-5);
      assertClose(out, RefOps.batchNorm(a, mean, biased, w, b, 1e-5), 1e-10, 1e-10);
      // running = (1 - momentum) * running + momentum * batch statistic (unbiased variance)
      assertClose(
          runMean,
          NdArray.zip(rm, mean, (p, q) -> (1 - momentum) * p + momentum * q),
          1e-12,
          1e-12);
      assertClose(
          runVar,
          NdArray.zip(rv, unbiased, (p, q) -> (1 - momentum) * p + momentum * q),
          1e-12,
          1e-12);
    }
  }

  @Property(tries = 120)
  void conv2d(
      @ForAll @IntRange(min = 1, max = 2) int groups,
      @ForAll boolean withBias,
      @ForAll boolean f32,
      @ForAll long seed) {
    Random r = new Random(seed);
    DType dt = dt(f32);
    int cin = groups * (1 + r.nextInt(2));
    int cout = groups * (1 + r.nextInt(2));
    int[] kernel = {1 + r.nextInt(3), 1 + r.nextInt(3)};
    int[] stride = {1 + r.nextInt(2), 1 + r.nextInt(2)};
    int[] pad = {r.nextInt(3), r.nextInt(3)};
    int[] dil = {1 + r.nextInt(2), 1 + r.nextInt(2)};
    // large enough for at least one output position
    int h = Math.max(1 + r.nextInt(5), dil[0] * (kernel[0] - 1) + 1 - 2 * pad[0]);
    int w = Math.max(1 + r.nextInt(5), dil[1] * (kernel[1] - 1) + 1 - 2 * pad[1]);
    NdArray x = in(dt, NdArray.uniform(r, -2, 2, 1 + r.nextInt(2), cin, h, w));
    NdArray wt = in(dt, NdArray.uniform(r, -2, 2, cout, cin / groups, kernel[0], kernel[1]));
    NdArray b = withBias ? in(dt, NdArray.uniform(r, -2, 2, cout)) : null;
    try (Scope sc = Scope.open()) {
      Tensor out =
          F.conv2d(
              x.toTensor(dt),
              wt.toTensor(dt),
              withBias ? b.toTensor(dt) : null,
              new long[] {stride[0], stride[1]},
              new long[] {pad[0], pad[1]},
              new long[] {dil[0], dil[1]},
              groups);
      assertClose(
          out, RefOps.conv2d(x, wt, b, stride, pad, dil, groups), 10 * tol(dt), 10 * tol(dt));
    }
  }

  @Property(tries = 120)
  void pooling(@ForAll boolean ceil, @ForAll boolean countIncludePad, @ForAll long seed) {
    Random r = new Random(seed);
    int[] k = {1 + r.nextInt(3), 1 + r.nextInt(3)};
    int[] s = {1 + r.nextInt(3), 1 + r.nextInt(3)};
    int[] p = {r.nextInt(k[0] / 2 + 1), r.nextInt(k[1] / 2 + 1)};
    int h = k[0] + r.nextInt(4);
    int w = k[1] + r.nextInt(4);
    NdArray x = NdArray.uniform(r, -3, 3, 1 + r.nextInt(2), 1 + r.nextInt(2), h, w);
    long[] kl = {k[0], k[1]};
    long[] sl = {s[0], s[1]};
    long[] pl = {p[0], p[1]};
    int oh = 1 + r.nextInt(4);
    int ow = 1 + r.nextInt(4);
    try (Scope sc = Scope.open()) {
      Tensor t = x.toTensor();
      assertClose(
          F.avgPool2d(t, kl, sl, pl, ceil, countIncludePad),
          RefOps.avgPool2d(x, k, s, p, ceil, countIncludePad),
          1e-12,
          1e-12);
      assertClose(F.maxPool2d(t, kl, sl, pl, ceil), RefOps.maxPool2d(x, k, s, p, ceil), 0, 0);
      assertClose(
          F.adaptiveAvgPool2d(t, oh, ow), RefOps.adaptiveAvgPool2d(x, oh, ow), 1e-12, 1e-12);
    }
  }

  @Property(tries = 80)
  void embedding(
      @ForAll @IntRange(min = 1, max = 5) int vocab,
      @ForAll @IntRange(min = 1, max = 4) int dim,
      @ForAll long seed) {
    Random r = new Random(seed);
    NdArray weight = NdArray.uniform(r, -2, 2, vocab, dim);
    NdArray idx = NdArray.ints(r, 0, vocab - 1, randomShape(r, 0, 2, 4));
    try (Scope sc = Scope.open()) {
      Tensor out = F.embedding(weight.toTensor(), idx.toTensor(DType.INT64));
      assertClose(out, RefOps.embedding(weight, idx), 0, 0);
      Tensor out32 = F.embedding(weight.toTensor(), idx.toTensor(DType.INT32));
      assertClose(out32, RefOps.embedding(weight, idx), 0, 0);
    }
  }

  @Property(tries = 120)
  void bilinearInterpolation(@ForAll boolean alignCorners, @ForAll long seed) {
    Random r = new Random(seed);
    int h = 1 + r.nextInt(5);
    int w = 1 + r.nextInt(5);
    int oh = 1 + r.nextInt(5);
    int ow = 1 + r.nextInt(5);
    NdArray x = NdArray.uniform(r, -3, 3, 1 + r.nextInt(2), 1 + r.nextInt(2), h, w);
    try (Scope sc = Scope.open()) {
      Tensor t = x.toTensor();
      Tensor y = F.interpolate(t, oh, ow, F.Interpolation.BILINEAR, alignCorners, false);
      assertClose(y, RefOps.bilinear(x, oh, ow, alignCorners), 1e-12, 1e-12);
      // the identity size reproduces the input exactly
      assertClose(F.interpolate(t, h, w, F.Interpolation.BILINEAR, alignCorners, false), x, 0, 0);
      if (alignCorners) {
        // corners are kept exactly
        double[] yv = y.toDoubleArray();
        assertThat(yv[0]).isCloseTo(x.data[0], org.assertj.core.data.Offset.offset(1e-15));
      }
    }
  }

  enum Mask {
    NONE,
    BOOL,
    FLOAT
  }

  @Property(tries = 120)
  void scaledDotProductAttention(
      @ForAll boolean causal,
      @ForAll Mask mask,
      @ForAll boolean defaultScale,
      @ForAll boolean f32,
      @ForAll long seed) {
    Random r = new Random(seed);
    DType dt = dt(f32);
    long[] batch = randomShape(r, 0, 2, 2);
    long l = 1 + r.nextInt(4);
    long s = 1 + r.nextInt(4);
    long e = 1 + r.nextInt(4);
    long ev = 1 + r.nextInt(4);
    NdArray q = in(dt, NdArray.uniform(r, -2, 2, concat(batch, l, e)));
    NdArray k = in(dt, NdArray.uniform(r, -2, 2, concat(batch, s, e)));
    NdArray v = in(dt, NdArray.uniform(r, -2, 2, concat(batch, s, ev)));
    double scale = defaultScale ? 0 : 0.1 + 1.5 * r.nextDouble();
    NdArray boolMask = null;
    NdArray floatMask = null;
    if (mask == Mask.BOOL) {
      boolMask = NdArray.ints(r, 0, 1, l, s);
      for (int i = 0; i < l; i++) {
        boolMask.data[(int) (i * s)] = 1; // key 0 stays visible: no row is fully masked
      }
    } else if (mask == Mask.FLOAT) {
      floatMask = in(dt, NdArray.uniform(r, -2, 2, l, s));
    }
    try (Scope sc = Scope.open()) {
      Tensor m =
          switch (mask) {
            case NONE -> null;
            case BOOL -> boolMask.toTensor(DType.BOOL);
            case FLOAT -> floatMask.toTensor(dt);
          };
      Tensor qt = q.toTensor(dt);
      Tensor kt = k.toTensor(dt);
      Tensor vt = v.toTensor(dt);
      Tensor fused = F.scaledDotProductAttention(qt, kt, vt, m, 0.0, causal, scale);
      Tensor math = F.attentionMath(qt, kt, vt, m, causal, scale);
      NdArray ref = RefOps.attention(q, k, v, boolMask, floatMask, causal, scale);
      assertClose(fused, ref, 10 * tol(dt), 10 * tol(dt));
      assertClose(math, ref, 10 * tol(dt), 10 * tol(dt));
      assertClose(fused, NdArray.of(math), 10 * tol(dt), 10 * tol(dt));
    }
  }

  @Property(tries = 100)
  void lossesAndCosineSimilarity(
      @ForAll("shape1") long[] shape,
      @ForAll @IntRange(min = 1, max = 5) int classes,
      @ForAll long seed) {
    Random r = new Random(seed);
    NdArray a = NdArray.uniform(r, -3, 3, shape);
    NdArray b = NdArray.uniform(r, -3, 3, shape);
    int n = 1 + r.nextInt(4);
    NdArray logits = NdArray.uniform(r, -3, 3, n, classes);
    long[] target = new long[n];
    for (int i = 0; i < n; i++) {
      target[i] = r.nextInt(classes);
    }
    long dim = r.nextInt(2 * shape.length) - shape.length;
    try (Scope sc = Scope.open()) {
      Tensor mse = F.mseLoss(a.toTensor(), b.toTensor());
      assertThat(mse.dim()).isZero();
      assertThat(mse.item())
          .isCloseTo(
              NdArray.meanOf(a.sub(b).map(v -> v * v).data),
              org.assertj.core.data.Percentage.withPercentage(1e-10));
      Tensor ce = F.crossEntropy(logits.toTensor(), Tensor.of(target));
      assertThat(ce.item())
          .isCloseTo(
              RefOps.crossEntropy(logits, target), org.assertj.core.data.Offset.offset(1e-12));
      Tensor cos = F.cosineSimilarity(a.toTensor(), b.toTensor(), dim, 1e-8);
      assertClose(cos, RefOps.cosineSimilarity(a, b, dim), 1e-12, 1e-12);
    }
  }

  @Example
  void dropoutIdentityCases() {
    try (Scope sc = Scope.open()) {
      Tensor x = NdArray.uniform(new Random(1), -1, 1, 50, 20).toTensor();
      assertThat(F.dropout(x, 0.0, true).equal(x)).as("p = 0").isTrue();
      assertThat(F.dropout(x, 0.5, false).equal(x)).as("eval").isTrue();
    }
  }

  @Property(tries = 6)
  void dropoutTrainingZeroesAboutPAndScalesSurvivors(
      @ForAll @IntRange(min = 1, max = 8) int tenths, @ForAll long seed) {
    double p = tenths / 10.0;
    Torch.manualSeed(seed);
    int n = 4000;
    try (Scope sc = Scope.open()) {
      Tensor x = NdArray.uniform(new Random(seed), 0.5, 1.5, n).toTensor();
      double[] xv = x.toDoubleArray();
      double[] y = F.dropout(x, p, true).toDoubleArray();
      int zeros = 0;
      for (int i = 0; i < n; i++) {
        if (y[i] == 0) {
          zeros++;
        } else {
          assertThat(y[i]).isCloseTo(xv[i] / (1 - p), org.assertj.core.data.Offset.offset(1e-12));
        }
      }
      // binomial(4000, p): 7 standard deviations are under 0.06
      assertThat((double) zeros / n).isCloseTo(p, org.assertj.core.data.Offset.offset(0.06));
    }
  }

  // ------------------------------------------------------------------ shape ops

  static long[] randomPermutation(Random r, int n) {
    List<Long> p = new ArrayList<>();
    for (long i = 0; i < n; i++) {
      p.add(i);
    }
    java.util.Collections.shuffle(p, r);
    return p.stream().mapToLong(Long::longValue).toArray();
  }

  @Property(tries = 120)
  void viewsAndReshapes(@ForAll("shape") long[] shape, @ForAll long seed) {
    Random r = new Random(seed);
    NdArray a = NdArray.uniform(r, -3, 3, shape);
    int rank = shape.length;
    try (Scope sc = Scope.open()) {
      Tensor x = a.toTensor();
      // reshape to a random re-factorisation of the same number of elements
      long[] target = randomPermutation(r, rank);
      long[] newShape = new long[rank];
      for (int i = 0; i < rank; i++) {
        newShape[i] = shape[(int) target[i]];
      }
      assertClose(x.reshape(newShape), a.reshape(newShape), 0, 0);
      assertClose(x.view(newShape), a.reshape(newShape), 0, 0);
      assertClose(x.reshape(-1), a.reshape(a.size()), 0, 0);
      assertClose(x.flatten(), a.reshape(a.size()), 0, 0);
      if (rank >= 2) {
        long[] fs = new long[rank - 1];
        fs[0] = shape[0] * shape[1];
        System.arraycopy(shape, 2, fs, 1, rank - 2);
        assertClose(x.flatten(0, 1), a.reshape(fs), 0, 0);
      }
      long d = r.nextInt(rank + 1);
      Tensor u = x.unsqueeze(d);
      assertClose(u, a.unsqueeze(d), 0, 0);
      assertClose(u.squeeze(d), a, 0, 0);
      // views share storage: writing through one is seen by the other
      Tensor base = x.clone();
      Tensor v = base.view(-1);
      v.fill_(7.0);
      assertThat(base.toDoubleArray()).containsOnly(7.0);
    }
  }

  @Property(tries = 120)
  void permuteTransposeContiguous(@ForAll("shape1") long[] shape, @ForAll long seed) {
    Random r = new Random(seed);
    NdArray a = NdArray.uniform(r, -3, 3, shape);
    int rank = shape.length;
    long[] p = randomPermutation(r, rank);
    long[] inv = new long[rank];
    for (int i = 0; i < rank; i++) {
      inv[(int) p[i]] = i;
    }
    long d0 = r.nextInt(rank);
    long d1 = r.nextInt(rank) - rank;
    try (Scope sc = Scope.open()) {
      Tensor x = a.toTensor();
      Tensor px = x.permute(p);
      assertClose(px, a.permute(p), 0, 0);
      assertThat(px.permute(inv).equal(x)).as("permute then inverse permute").isTrue();
      Tensor tx = x.transpose(d0, d1);
      assertClose(tx, a.transpose(d0, d1), 0, 0);
      assertThat(tx.transpose(d0, d1).equal(x)).isTrue();
      Tensor c = px.contiguous();
      assertThat(c.equal(px)).isTrue();
      long[] st = c.stride();
      long expect = 1;
      for (int i = rank - 1; i >= 0; i--) {
        if (c.size(i) > 1) {
          assertThat(st[i]).as("row-major stride of dim %d", i).isEqualTo(expect);
        }
        expect *= c.size(i);
      }
    }
  }

  @Property(tries = 120)
  void sliceNarrowSelect(@ForAll("shape1") long[] shape, @ForAll long seed) {
    Random r = new Random(seed);
    NdArray a = NdArray.uniform(r, -3, 3, shape);
    int rank = shape.length;
    long dim = r.nextInt(2 * rank) - rank;
    long n = shape[(int) (dim < 0 ? dim + rank : dim)];
    long start = r.nextInt((int) (2 * n + 1)) - n;
    long end = r.nextInt((int) (2 * n + 3)) - n;
    long step = 1 + r.nextInt(3);
    long nstart = r.nextInt((int) n);
    long len = r.nextInt((int) (n - nstart + 1));
    long idx = r.nextInt((int) (2 * n)) - n;
    try (Scope sc = Scope.open()) {
      Tensor x = a.toTensor();
      assertClose(x.slice(dim, start, end, step), a.slice(dim, start, end, step), 0, 0);
      assertClose(x.slice(dim, 0, Long.MAX_VALUE, 1), a, 0, 0);
      assertClose(x.narrow(dim, nstart, len), a.slice(dim, nstart, nstart + len, 1), 0, 0);
      assertClose(x.select(dim, idx), a.select(dim, idx), 0, 0);
    }
  }

  @Property(tries = 120)
  void expandRepeatFlip(@ForAll("broadcastPair") Shapes s, @ForAll long seed) {
    Random r = new Random(seed);
    NdArray a = NdArray.uniform(r, -3, 3, s.a());
    long[] target = NdArray.broadcastShapes(s.a(), s.b());
    long[] reps = new long[target.length];
    for (int i = 0; i < reps.length; i++) {
      reps[i] = 1 + r.nextInt(2);
    }
    long[] flipDims = randomDims(r, s.a().length);
    try (Scope sc = Scope.open()) {
      Tensor x = a.toTensor();
      Tensor e = x.expand(target);
      assertClose(e, a.broadcastTo(target), 0, 0);
      assertClose(x.repeat(reps), a.repeat(reps), 0, 0);
      if (s.a().length > 0) {
        Tensor f = x.flip(flipDims.length == 0 ? new long[] {0} : flipDims);
        NdArray ref = a.flip(flipDims.length == 0 ? new long[] {0} : flipDims);
        assertClose(f, ref, 0, 0);
        assertThat(f.flip(flipDims.length == 0 ? new long[] {0} : flipDims).equal(x)).isTrue();
      }
    }
  }

  @Property(tries = 120)
  void splitChunkCatStack(
      @ForAll("shape1") long[] shape,
      @ForAll @IntRange(min = 1, max = 5) int chunks,
      @ForAll long seed) {
    Random r = new Random(seed);
    NdArray a = NdArray.uniform(r, -3, 3, shape);
    int rank = shape.length;
    long dim = r.nextInt(2 * rank) - rank;
    int d = (int) (dim < 0 ? dim + rank : dim);
    // random split sizes that sum to the dim
    List<Long> sizes = new ArrayList<>();
    long left = shape[d];
    while (left > 0) {
      long p = 1 + r.nextInt((int) left);
      sizes.add(p);
      left -= p;
    }
    long[] sz = sizes.stream().mapToLong(Long::longValue).toArray();
    try (Scope sc = Scope.open()) {
      Tensor x = a.toTensor();
      Tensor[] parts = x.split(sz, dim);
      assertThat(parts).hasSize(sz.length);
      long off = 0;
      for (int i = 0; i < parts.length; i++) {
        assertClose(parts[i], a.slice(d, off, off + sz[i], 1), 0, 0);
        off += sz[i];
      }
      assertThat(Tensor.cat(parts, dim).equal(x)).as("cat after split").isTrue();
      Tensor[] ch = x.chunk(chunks, dim);
      long each = (shape[d] + chunks - 1) / chunks;
      assertThat(ch.length).isEqualTo((int) ((shape[d] + each - 1) / each));
      for (int i = 0; i < ch.length; i++) {
        assertThat(ch[i].size(d)).isEqualTo(Math.min(each, shape[d] - i * each));
      }
      assertThat(Tensor.cat(ch, dim).equal(x)).as("cat after chunk").isTrue();
      Tensor[] fixed = x.split(2, dim);
      assertThat(Tensor.cat(fixed, dim).equal(x)).as("cat after split(2)").isTrue();
      // stack of equal-shaped tensors along a new dim
      NdArray b = NdArray.uniform(r, -3, 3, shape);
      long sd = r.nextInt(2 * (rank + 1)) - (rank + 1);
      assertClose(
          Tensor.stack(new Tensor[] {x, b.toTensor()}, sd), NdArray.stack(List.of(a, b), sd), 0, 0);
    }
  }

  @Property(tries = 120)
  void gatherScatterIndexSelect(@ForAll("shape1") long[] shape, @ForAll long seed) {
    Random r = new Random(seed);
    NdArray a = NdArray.uniform(r, -3, 3, shape);
    int rank = shape.length;
    int d = r.nextInt(rank);
    // index no larger than the input in every dim
    long[] is = new long[rank];
    for (int i = 0; i < rank; i++) {
      is[i] = 1 + r.nextInt((int) shape[i]);
    }
    NdArray gidx = NdArray.ints(r, 0, (int) shape[d] - 1, is);
    // scatter index: distinct positions along d in every fibre (duplicates are unordered)
    NdArray sidx = NdArray.zeros(is);
    for (int f = 0; f < sidx.size(); f++) {
      int[] c = NdArray.unravel(f, is);
      if (c[d] != 0) {
        continue;
      }
      long[] perm = randomPermutation(r, (int) shape[d]);
      for (int j = 0; j < is[d]; j++) {
        c[d] = j;
        sidx.data[NdArray.ravel(c, is)] = perm[j];
      }
    }
    NdArray src = NdArray.uniform(r, -3, 3, is);
    NdArray iidx = NdArray.ints(r, 0, (int) shape[d] - 1, 1 + r.nextInt(5));
    // references
    NdArray gref = NdArray.zeros(is);
    for (int f = 0; f < gref.size(); f++) {
      int[] c = NdArray.unravel(f, is);
      c[d] = (int) gidx.data[f];
      gref.data[f] = a.get(c);
    }
    NdArray sref = new NdArray(shape, a.data.clone());
    for (int f = 0; f < src.size(); f++) {
      int[] c = NdArray.unravel(f, is);
      c[d] = (int) sidx.data[f];
      sref.data[NdArray.ravel(c, shape)] = src.data[f];
    }
    List<NdArray> rows = new ArrayList<>();
    for (double i : iidx.data) {
      rows.add(a.slice(d, (long) i, (long) i + 1, 1));
    }
    try (Scope sc = Scope.open()) {
      Tensor x = a.toTensor();
      assertClose(x.gather(d, gidx.toTensor(DType.INT64)), gref, 0, 0);
      Tensor scattered = x.scatter(d, sidx.toTensor(DType.INT64), src.toTensor());
      assertClose(scattered, sref, 0, 0);
      assertClose(x, a, 0, 0); // out of place
      assertClose(x.indexSelect(d, iidx.toTensor(DType.INT64)), NdArray.cat(rows, d), 0, 0);
    }
  }

  @Property(tries = 100)
  void argsortSorts(@ForAll("shape1") long[] shape, @ForAll boolean descending, @ForAll long seed) {
    Random r = new Random(seed);
    NdArray a = NdArray.uniform(r, -3, 3, shape); // distinct values
    int rank = shape.length;
    long dim = r.nextInt(2 * rank) - rank;
    NdArray ref =
        a.alongDim(
            dim,
            v -> {
              Integer[] order = new Integer[v.length];
              for (int i = 0; i < v.length; i++) {
                order[i] = i;
              }
              Arrays.sort(
                  order,
                  (p, q) -> descending ? Double.compare(v[q], v[p]) : Double.compare(v[p], v[q]));
              double[] o = new double[v.length];
              for (int i = 0; i < v.length; i++) {
                o[i] = order[i];
              }
              return o;
            });
    try (Scope sc = Scope.open()) {
      Tensor idx = a.toTensor().argsort(dim, descending);
      assertThat(idx.dtype()).isEqualTo(DType.INT64);
      assertClose(idx, ref, 0, 0);
    }
  }

  @Property(tries = 80)
  void pixelShuffleLaws(@ForAll @IntRange(min = 1, max = 3) int factor, @ForAll long seed) {
    Random r = new Random(seed);
    int n = 1 + r.nextInt(2);
    int c = 1 + r.nextInt(2);
    int h = 1 + r.nextInt(3);
    int w = 1 + r.nextInt(3);
    NdArray a = NdArray.uniform(r, -3, 3, n, (long) c * factor * factor, h, w);
    NdArray ref = NdArray.zeros(n, c, (long) h * factor, (long) w * factor);
    for (int f = 0; f < ref.size(); f++) {
      int[] o = NdArray.unravel(f, ref.shape);
      int i = o[2] % factor;
      int j = o[3] % factor;
      ref.data[f] =
          a.get(o[0], o[1] * factor * factor + i * factor + j, o[2] / factor, o[3] / factor);
    }
    try (Scope sc = Scope.open()) {
      Tensor x = a.toTensor();
      Tensor y = x.pixelShuffle(factor);
      assertClose(y, ref, 0, 0);
      assertThat(y.pixelUnshuffle(factor).equal(x))
          .as("pixelUnshuffle after pixelShuffle")
          .isTrue();
      Tensor z = ref.toTensor();
      assertThat(z.pixelUnshuffle(factor).pixelShuffle(factor).equal(z))
          .as("pixelShuffle after pixelUnshuffle")
          .isTrue();
    }
  }

  // ------------------------------------------------------------------ dtypes, host transfer,
  // creation

  /** Integers every dtype holds exactly (bool: 0 and 1). */
  static NdArray representable(Random r, DType d, long[] shape) {
    return switch (d) {
      case BOOL -> NdArray.ints(r, 0, 1, shape);
      case UINT8 -> NdArray.ints(r, 0, 255, shape);
      case INT8 -> NdArray.ints(r, -128, 127, shape);
      case BFLOAT16 -> NdArray.ints(r, -256, 256, shape);
      case FLOAT16 -> NdArray.ints(r, -2048, 2048, shape);
      case INT16 -> NdArray.ints(r, -32768, 32767, shape);
      case INT32, INT64, FLOAT32, FLOAT64 -> NdArray.ints(r, -1_000_000, 1_000_000, shape);
    };
  }

  @Property(tries = 60)
  void dtypeConversionRoundTrips(
      @ForAll("shape") long[] shape, @ForAll DType d, @ForAll DType other, @ForAll long seed) {
    Random r = new Random(seed);
    NdArray a = representable(r, d, shape);
    NdArray shared = NdArray.ints(r, 0, 1, shape); // held exactly by every dtype
    try (Scope sc = Scope.open()) {
      Tensor t = a.toTensor(d);
      assertThat(t.dtype()).isEqualTo(d);
      assertThat(t.shape()).containsExactly(shape);
      assertClose(t.to(DType.FLOAT64), a, 0, 0);
      assertClose(t, a, 0, 0);
      Tensor s = shared.toTensor(d);
      Tensor there = s.to(other);
      assertThat(there.dtype()).isEqualTo(other);
      assertThat(there.to(d).equal(s)).as("%s -> %s -> %s", d, other, d).isTrue();
      assertThat(d.isFloatingPoint())
          .isEqualTo(
              d == DType.FLOAT32
                  || d == DType.FLOAT64
                  || d == DType.FLOAT16
                  || d == DType.BFLOAT16);
    }
  }

  @Example
  void int64AndFloatValuesSurviveExactly() {
    try (Scope sc = Scope.open()) {
      long[] big = {Long.MAX_VALUE, Long.MIN_VALUE, (1L << 53) + 1, -7};
      Tensor t = Tensor.of(big);
      assertThat(t.toLongArray()).containsExactly(big);
      assertThat(t.to(DType.INT64).toLongArray()).containsExactly(big);
      float[] f = {Float.MIN_VALUE, Float.MAX_VALUE, -0.1f, 1e-30f};
      assertThat(Tensor.of(f).toFloatArray()).containsExactly(f);
      assertThat(Tensor.of(f).to(DType.FLOAT64).to(DType.FLOAT32).toFloatArray())
          .containsExactly(f);
      int[] ints = {Integer.MIN_VALUE, Integer.MAX_VALUE, 0};
      assertThat(Tensor.of(ints).toIntArray()).containsExactly(ints);
      byte[] bytes = {1, 0, 1};
      assertThat(Tensor.of(bytes, DType.BOOL).toByteArray()).containsExactly(bytes);
    }
  }

  @Property(tries = 60)
  void hostRoundTrip(
      @ForAll("shape") long[] shape,
      @ForAll DType d,
      @ForAll boolean transposed,
      @ForAll long seed) {
    Random r = new Random(seed);
    NdArray a = representable(r, d, shape);
    try (Scope sc = Scope.open();
        Arena arena = Arena.ofConfined()) {
      Tensor t = a.toTensor(d);
      if (transposed && shape.length >= 2) {
        t = t.transpose(0, shape.length - 1); // non-contiguous: toHost writes it densely
      }
      HostTensor h = t.toHost(arena);
      assertThat(h.dtype()).isEqualTo(d);
      assertThat(h.shape()).containsExactly(t.shape());
      assertThat(h.data().byteSize()).isEqualTo(t.numel() * d.byteSize());
      Tensor back = Tensor.fromHost(h);
      assertThat(back.equal(t)).isTrue();
      assertThat(back.device()).isEqualTo(Device.CPU);
      assertThat(Tensor.fromHost(h, Device.CPU).equal(t)).isTrue();
    }
  }

  @Property(tries = 80)
  void fromStorageCopiesStridedViews(
      @ForAll @IntRange(min = 0, max = 3) int rank, @ForAll long seed) {
    Random r = new Random(seed);
    long[] shape = randomShape(r, rank, rank, 4);
    long[] stride = new long[rank];
    long offset = r.nextInt(4);
    long last = offset;
    for (int i = 0; i < rank; i++) {
      stride[i] = r.nextInt(5); // 0 (broadcast) and overlapping views included
      last += (shape[i] - 1) * stride[i];
    }
    long capacity = last + 1 + r.nextInt(3); // the last element may be the last of the storage
    NdArray storage = NdArray.uniform(r, -3, 3, capacity);
    NdArray ref = NdArray.zeros(shape);
    for (int f = 0; f < ref.size(); f++) {
      int[] idx = NdArray.unravel(f, shape);
      long at = offset;
      for (int i = 0; i < rank; i++) {
        at += idx[i] * stride[i];
      }
      ref.data[f] = storage.data[(int) at];
    }
    try (Scope sc = Scope.open();
        Arena arena = Arena.ofConfined()) {
      java.lang.foreign.MemorySegment seg = arena.allocate(8 * capacity, 8);
      java.lang.foreign.MemorySegment.copy(
          storage.data, 0, seg, java.lang.foreign.ValueLayout.JAVA_DOUBLE, 0, (int) capacity);
      Tensor t = Tensor.fromStorage(seg, DType.FLOAT64, shape, stride, offset);
      assertClose(t, ref, 0, 0);
      assertThat(t.isClosed()).isFalse();
      // a dense copy: later writes to the storage do not show
      seg.fill((byte) 0);
      assertClose(t, ref, 0, 0);
    }
  }

  @Property(tries = 80)
  void creationClosedForms(@ForAll("shape") long[] shape, @ForAll DType d, @ForAll long seed) {
    Random r = new Random(seed);
    double start = Math.round((-5 + 10 * r.nextDouble()) * 8) / 8.0;
    double step = (r.nextBoolean() ? 1 : -1) * (0.25 + r.nextInt(8) * 0.25);
    int count = 1 + r.nextInt(12);
    double end = start + step * count - step / 2; // halfway past the last point
    long steps = 1 + r.nextInt(7);
    double fill = representable(r, d, new long[0]).data[0];
    try (Scope sc = Scope.open()) {
      Tensor ar = Tensor.arange(start, end, step, DType.FLOAT64, Device.CPU);
      double[] expect = new double[count];
      for (int i = 0; i < count; i++) {
        expect[i] = start + i * step;
      }
      assertClose(ar, NdArray.of(expect, count), 1e-12, 1e-12);
      assertThat(Tensor.arange(count).toLongArray())
          .containsExactly(java.util.stream.LongStream.range(0, count).toArray());
      assertThat(Tensor.arange(count).dtype()).isEqualTo(DType.INT64);
      Tensor ls = Tensor.linspace(start, end, steps, DType.FLOAT64, Device.CPU);
      double[] le = new double[(int) steps];
      for (int i = 0; i < steps; i++) {
        le[i] = steps == 1 ? start : start + i * (end - start) / (steps - 1);
      }
      assertClose(ls, NdArray.of(le, steps), 1e-12, 1e-12);
      double[] lv = ls.toDoubleArray();
      assertThat(lv[0]).isEqualTo(start);
      if (steps > 1) {
        assertThat(lv[(int) steps - 1]).isEqualTo(end);
      }
      Tensor z = Tensor.zeros(shape, d, Device.CPU);
      Tensor o = Tensor.ones(shape, d, Device.CPU);
      Tensor f = Tensor.full(shape, fill, d, Device.CPU);
      for (Tensor t : new Tensor[] {z, o, f}) {
        assertThat(t.dtype()).isEqualTo(d);
        assertThat(t.shape()).containsExactly(shape);
      }
      assertClose(z, NdArray.zeros(shape), 0, 0);
      assertClose(o, NdArray.full(1, shape), 0, 0);
      assertClose(f, NdArray.full(fill, shape), 0, 0);
      assertThat(Tensor.zeros(shape).dtype()).isEqualTo(DType.FLOAT32);
      assertThat(Tensor.scalar(2.5).dim()).isZero();
      assertThat(Tensor.scalar(2.5).item()).isEqualTo(2.5);
    }
  }

  // ------------------------------------------------------------------ random

  @Property(tries = 40)
  void randomOpsAreReproduciblePerGeneratorSeed(
      @ForAll("shape1") long[] shape,
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 40) int n) {
    long other = seed + 1;
    try (Scope sc = Scope.open();
        TorchGenerator g1 = TorchGenerator.cpu(seed);
        TorchGenerator g2 = TorchGenerator.cpu(seed);
        TorchGenerator g3 = TorchGenerator.cpu(other)) {
      long[] big = {64};
      for (int round = 0; round < 2; round++) {
        Tensor a1 = Tensor.randn(shape, g1, DType.FLOAT64, Device.CPU);
        Tensor a2 = Tensor.randn(shape, g2, DType.FLOAT64, Device.CPU);
        assertThat(a1.equal(a2)).as("randn, same seed").isTrue();
        Tensor b1 = Tensor.rand(shape, g1, DType.FLOAT64, Device.CPU);
        Tensor b2 = Tensor.rand(shape, g2, DType.FLOAT64, Device.CPU);
        assertThat(b1.equal(b2)).as("rand, same seed").isTrue();
        assertThat(Arrays.stream(b1.toDoubleArray())).allMatch(v -> v >= 0 && v < 1);
        Tensor c1 = Tensor.randint(-3, 5, shape, g1, DType.INT64, Device.CPU);
        Tensor c2 = Tensor.randint(-3, 5, shape, g2, DType.INT64, Device.CPU);
        assertThat(c1.equal(c2)).as("randint, same seed").isTrue();
        assertThat(c1.dtype()).isEqualTo(DType.INT64);
        assertThat(Arrays.stream(c1.toLongArray())).allMatch(v -> v >= -3 && v < 5);
        Tensor p1 = Tensor.randperm(n, g1, Device.CPU);
        Tensor p2 = Tensor.randperm(n, g2, Device.CPU);
        assertThat(p1.equal(p2)).as("randperm, same seed").isTrue();
        long[] perm = p1.toLongArray();
        Arrays.sort(perm);
        assertThat(perm).containsExactly(java.util.stream.LongStream.range(0, n).toArray());
        // a different seed gives a different stream (64 normals colliding is impossible)
        Tensor d1 = Tensor.randn(big, g1, DType.FLOAT64, Device.CPU);
        Tensor d2 = Tensor.randn(big, g2, DType.FLOAT64, Device.CPU);
        Tensor d3 = Tensor.randn(big, g3, DType.FLOAT64, Device.CPU);
        assertThat(d1.equal(d2)).isTrue();
        assertThat(d1.equal(d3)).as("different seeds").isFalse();
        // re-seeding replays the stream
        g1.manualSeed(seed);
        g2.manualSeed(seed);
        g3.manualSeed(seed);
      }
      // the saved state replays the same draws
      Tensor state = g1.getState();
      Tensor first = Tensor.randn(big, g1, DType.FLOAT32, Device.CPU);
      g2.setState(state);
      assertThat(Tensor.randn(big, g2, DType.FLOAT32, Device.CPU).equal(first)).isTrue();
    }
  }

  // ------------------------------------------------------------------ in place

  enum InPlace {
    ADD,
    ADD_SCALAR,
    MUL,
    MUL_SCALAR,
    ADDCMUL,
    ADDCDIV,
    LERP,
    CLAMP,
    CLAMP_MIN,
    CLAMP_MAX,
    COPY,
    ZERO,
    FILL
  }

  @Property(tries = 160)
  void inPlaceOps(@ForAll("broadcastPair") Shapes s, @ForAll InPlace op, @ForAll long seed) {
    Random r = new Random(seed);
    long[] selfShape = NdArray.broadcastShapes(s.a(), s.b()); // self must hold the broadcast result
    NdArray a = NdArray.uniform(r, -3, 3, selfShape);
    NdArray b = NdArray.uniform(r, -3, 3, s.b());
    NdArray c = awayFromZero(r, s.a());
    double v = -2 + 4 * r.nextDouble();
    double lo = -1 - r.nextDouble();
    double hi = 1 + r.nextDouble();
    try (Scope sc = Scope.open()) {
      Tensor self = a.toTensor();
      Tensor alias = self.view(-1); // sees the in-place update
      Tensor other = b.toTensor();
      Tensor third = c.toTensor();
      Tensor ret =
          switch (op) {
            case ADD -> self.add_(other, v);
            case ADD_SCALAR -> self.add_(v);
            case MUL -> self.mul_(other);
            case MUL_SCALAR -> self.mul_(v);
            case ADDCMUL -> self.addcmul_(other, third, v);
            case ADDCDIV -> self.addcdiv_(other, third, v);
            case LERP -> self.lerp_(other, v);
            case CLAMP -> self.clamp_(lo, hi);
            case CLAMP_MIN -> self.clamp_(lo, Double.NaN);
            case CLAMP_MAX -> self.clamp_(Double.NaN, hi);
            case COPY -> self.copy_(b.toTensor(DType.FLOAT32));
            case ZERO -> self.zero_();
            case FILL -> self.fill_(v);
          };
      NdArray ref =
          switch (op) {
            case ADD -> NdArray.zip(a, b, (p, q) -> p + v * q);
            case ADD_SCALAR -> a.map(p -> p + v);
            case MUL -> NdArray.zip(a, b, (p, q) -> p * q);
            case MUL_SCALAR -> a.map(p -> p * v);
            case ADDCMUL -> NdArray.zip3(a, b, c, (p, q, t) -> p + v * q * t);
            case ADDCDIV -> NdArray.zip3(a, b, c, (p, q, t) -> p + v * q / t);
            case LERP -> NdArray.zip(a, b, (p, q) -> p + v * (q - p));
            case CLAMP -> a.map(p -> Math.min(Math.max(p, lo), hi));
            case CLAMP_MIN -> a.map(p -> Math.max(p, lo));
            case CLAMP_MAX -> a.map(p -> Math.min(p, hi));
            case COPY -> b.map(p -> (float) p).broadcastTo(selfShape);
            case ZERO -> NdArray.zeros(selfShape);
            case FILL -> NdArray.full(v, selfShape);
          };
      assertThat(ret).isSameAs(self);
      assertThat(self.dtype()).isEqualTo(DType.FLOAT64);
      assertClose(self, ref, 1e-12, 1e-12);
      assertClose(alias.toDoubleArray(), ref.data, 1e-12, 1e-12);
    }
  }
}
