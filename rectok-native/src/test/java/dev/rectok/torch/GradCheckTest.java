package dev.rectok.torch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Autograd against central finite differences in float64 (eps 1e-6): every input that requires grad
 * is checked element by element. Plus the bookkeeping of gradients and of the per-thread grad mode.
 */
class GradCheckTest {
  static final double EPS = 1e-6;
  static final double RTOL = 1e-6;
  static final double ATOL = 1e-7;

  private static long liveBefore;

  @BeforeContainer
  static void countHandles() {
    liveBefore = Tensor.liveHandles();
  }

  @AfterContainer
  static void nothingLeaked() {
    assertThat(Tensor.liveHandles()).isLessThanOrEqualTo(liveBefore);
  }

  /** A scalar-valued function of float64 tensors. */
  interface Fn {
    Tensor apply(Tensor... in);
  }

  static double eval(Fn f, NdArray[] inputs) {
    try (Scope s = Scope.open();
        GradMode g = GradMode.noGrad()) {
      Tensor[] ts = new Tensor[inputs.length];
      for (int i = 0; i < ts.length; i++) {
        ts[i] = inputs[i].toTensor();
      }
      Tensor out = f.apply(ts);
      assertThat(out.requiresGrad()).isFalse();
      return out.item();
    }
  }

  /** Checks d f / d inputs[i] for every i with requires[i], by central differences. */
  static void gradCheck(Fn f, boolean[] requires, NdArray... inputs) {
    try (Scope s = Scope.open()) {
      Tensor[] ts = new Tensor[inputs.length];
      for (int i = 0; i < ts.length; i++) {
        ts[i] = inputs[i].toTensor();
        if (requires[i]) {
          ts[i].requiresGrad_(true);
        }
      }
      Tensor out = f.apply(ts);
      assertThat(out.dim()).as("the checked function returns a scalar").isZero();
      assertThat(out.requiresGrad()).isTrue();
      out.backward();
      for (int i = 0; i < ts.length; i++) {
        Tensor grad = ts[i].grad();
        if (!requires[i]) {
          assertThat(grad).as("input %d does not require grad", i).isNull();
          continue;
        }
        assertThat(grad).as("gradient of input %d", i).isNotNull();
        assertThat(grad.shape()).containsExactly(inputs[i].shape);
        double[] analytic = grad.toDoubleArray();
        for (int j = 0; j < inputs[i].size(); j++) {
          NdArray[] plus = perturbed(inputs, i, j, EPS);
          NdArray[] minus = perturbed(inputs, i, j, -EPS);
          double numeric = (eval(f, plus) - eval(f, minus)) / (2 * EPS);
          double tol = ATOL + RTOL * Math.abs(numeric);
          if (!(Math.abs(numeric - analytic[j]) <= tol)) {
            throw new AssertionError(
                "d out / d input"
                    + i
                    + "["
                    + j
                    + "]: autograd "
                    + analytic[j]
                    + ", finite difference "
                    + numeric
                    + "\n autograd: "
                    + Arrays.toString(analytic));
          }
        }
      }
    }
  }

  static void gradCheck(Fn f, NdArray... inputs) {
    boolean[] all = new boolean[inputs.length];
    Arrays.fill(all, true);
    gradCheck(f, all, inputs);
  }

  static NdArray[] perturbed(NdArray[] inputs, int i, int j, double delta) {
    NdArray[] r = inputs.clone();
    double[] d = inputs[i].data.clone();
    d[j] += delta;
    r[i] = new NdArray(inputs[i].shape, d);
    return r;
  }

  static NdArray u(Random r, long... shape) {
    return NdArray.uniform(r, -1.5, 1.5, shape);
  }

  /** A random weighting, so that sum(weight * y) depends on every element of y. */
  static Tensor dot(Tensor y, NdArray weight) {
    return y.mul(weight.toTensor()).sum();
  }

  // ------------------------------------------------------------------ composite expressions

  @Property(tries = 25)
  void tanhOfAffineSquared(
      @ForAll @IntRange(min = 1, max = 3) int batch,
      @ForAll @IntRange(min = 1, max = 3) int in,
      @ForAll @IntRange(min = 1, max = 3) int out,
      @ForAll boolean viaLinear,
      @ForAll long seed) {
    Random r = new Random(seed);
    Fn f =
        viaLinear
            ? t -> F.linear(t[0], t[1], t[2]).tanh().pow(2).sum()
            : t -> t[0].matmul(t[1].transpose(0, 1)).add(t[2]).tanh().pow(2.0).sum();
    gradCheck(f, u(r, batch, in), u(r, out, in), u(r, out));
  }

  @Property(tries = 25)
  void softmaxCrossEntropy(
      @ForAll @IntRange(min = 1, max = 3) int n,
      @ForAll @IntRange(min = 2, max = 4) int classes,
      @ForAll long seed) {
    Random r = new Random(seed);
    long[] target = new long[n];
    for (int i = 0; i < n; i++) {
      target[i] = r.nextInt(classes);
    }
    NdArray wts = u(r, n, classes);
    gradCheck(
        t -> {
          Tensor logits = t[0].matmul(t[1]);
          Tensor ce = F.crossEntropy(logits, Tensor.of(target));
          // plus softmax and log-softmax on their own
          return ce.add(dot(F.softmax(logits, -1), wts)).add(dot(F.logSoftmax(logits, 0), wts));
        },
        u(r, n, 3),
        u(r, 3, classes));
  }

  @Property(tries = 25)
  void layerNormOfGelu(@ForAll boolean tanhApprox, @ForAll boolean affine, @ForAll long seed) {
    Random r = new Random(seed);
    long[] shape = {1 + r.nextInt(2), 2 + r.nextInt(3)};
    NdArray wts = u(r, shape);
    long[] ns = {shape[1]};
    if (affine) {
      gradCheck(
          t -> dot(F.layerNorm(F.gelu(t[0], tanhApprox), ns, t[1], t[2], 1e-5), wts),
          u(r, shape),
          u(r, shape[1]),
          u(r, shape[1]));
    } else {
      gradCheck(
          t -> dot(F.layerNorm(F.gelu(t[0], tanhApprox), ns, null, null, 1e-5), wts), u(r, shape));
    }
  }

  @Property(tries = 25)
  void attention(@ForAll boolean causal, @ForAll boolean floatMask, @ForAll long seed) {
    Random r = new Random(seed);
    long l = 1 + r.nextInt(3);
    long s = 1 + r.nextInt(3);
    long e = 1 + r.nextInt(3);
    NdArray wts = u(r, 2, l, e);
    NdArray mask = u(r, l, s);
    gradCheck(
        t ->
            dot(
                F.scaledDotProductAttention(
                    t[0], t[1], t[2], floatMask ? t[3] : null, 0.0, causal, 0),
                wts),
        new boolean[] {true, true, true, floatMask},
        u(r, 2, l, e),
        u(r, 2, s, e),
        u(r, 2, s, e),
        mask);
  }

  @Property(tries = 25)
  void conv2dAndPooling(
      @ForAll @IntRange(min = 1, max = 2) int groups, @ForAll boolean maxPool, @ForAll long seed) {
    Random r = new Random(seed);
    int cin = groups * (1 + r.nextInt(2));
    int cout = groups;
    long[] stride = {1 + r.nextInt(2), 1 + r.nextInt(2)};
    long[] pad = {r.nextInt(2), r.nextInt(2)};
    long[] dil = {1 + r.nextInt(2), 1};
    NdArray x = u(r, 1, cin, 5, 5);
    NdArray w = u(r, cout, cin / groups, 2, 2);
    NdArray b = u(r, cout);
    gradCheck(
        t -> {
          Tensor y = F.conv2d(t[0], t[1], t[2], stride, pad, dil, groups);
          Tensor p =
              maxPool
                  ? F.maxPool2d(y, new long[] {2, 2}, new long[] {1, 1}, new long[] {0, 0}, true)
                  : F.avgPool2d(
                      y, new long[] {2, 2}, new long[] {1, 1}, new long[] {1, 1}, true, false);
          return p.pow(2).sum().add(y.sum());
        },
        x,
        w,
        b);
  }

  @Property(tries = 25)
  void rmsNormAndGroupNorm(@ForAll long seed) {
    Random r = new Random(seed);
    long c = 2 * (1 + r.nextInt(2));
    NdArray wts = u(r, 2, c, 2);
    long[] ns = {2};
    gradCheck(
        t ->
            dot(F.rmsNorm(t[0], ns, t[1], 1e-6), wts)
                .add(dot(F.groupNorm(t[0], 2, t[2], t[3], 1e-5), wts)),
        u(r, 2, c, 2),
        u(r, 2),
        u(r, c),
        u(r, c));
  }

  @Property(tries = 25)
  void batchNormTraining(@ForAll long seed) {
    Random r = new Random(seed);
    long c = 1 + r.nextInt(3);
    NdArray wts = u(r, 3, c, 2);
    gradCheck(
        t -> dot(F.batchNorm(t[0], null, null, t[1], t[2], true, 0.1, 1e-5), wts),
        u(r, 3, c, 2),
        u(r, c),
        u(r, c));
  }

  @Property(tries = 25)
  void cosineSimilarityAndMse(@ForAll @IntRange(min = 1, max = 4) int d, @ForAll long seed) {
    Random r = new Random(seed);
    NdArray wts = u(r, 3);
    gradCheck(
        t -> dot(F.cosineSimilarity(t[0], t[1], 1, 1e-8), wts).add(F.mseLoss(t[0], t[1])),
        u(r, 3, d),
        u(r, 3, d));
  }

  @Property(tries = 25)
  void divisionPowExpLogChain(@ForAll long seed) {
    Random r = new Random(seed);
    NdArray x = u(r, 2, 3);
    NdArray y = u(r, 3);
    NdArray z = NdArray.uniform(r, 0.5, 2, 2, 1);
    gradCheck(
        t -> {
          Tensor a = t[0].exp().div(t[1].pow(2).add(1)); // broadcast (2,3) / (3)
          Tensor b = a.add(2).log().mul(t[2].pow(1.5)); // broadcast with (2,1)
          Tensor c = t[2].pow(t[0].sigmoid()).div(t[1].exp().add(0.5)); // tensor ** tensor
          Tensor d = t[0].pow(2).add(0.5).sqrt().rsub(3.0).rsqrt(); // 3 - sqrt(x^2 + 0.5) > 0
          Tensor e = t[0].sin().mul(t[1].cos()).add(t[0].erf()).sub(t[1].silu(), 0.5);
          return b.sum().add(c.sum()).add(e.mean()).add(d.div(2.0).sum());
        },
        x,
        y,
        z);
  }

  @Property(tries = 25)
  void broadcastingMatmulReducesGradients(@ForAll long seed) {
    Random r = new Random(seed);
    NdArray a = u(r, 2, 1, 2, 3);
    NdArray b = u(r, 3, 3, 2);
    NdArray v = u(r, 2); // (3, 3, 2) @ (2): matrix times vector, batched
    NdArray wts = u(r, 2, 3, 2, 2);
    gradCheck(
        t -> dot(t[0].matmul(t[1]), wts).add(t[1].matmul(t[2]).sum()).add(t[2].matmul(t[2])),
        a,
        b,
        v);
  }

  @Property(tries = 25)
  void shapeOpsAndIndexing(@ForAll long seed) {
    Random r = new Random(seed);
    NdArray x = u(r, 3, 4);
    NdArray emb = u(r, 5, 2);
    NdArray img = u(r, 1, 1, 2, 3);
    long[] idx = {0, 2, 2, 4};
    long[] gidx = {1, 0, 3, 3, 2, 1};
    NdArray wts = u(r, 4, 3);
    gradCheck(
        t -> {
          Tensor p = t[0].permute(1, 0).reshape(2, 6).slice(1, 1, 6, 2).flatten();
          Tensor g = t[0].gather(1, Tensor.of(gidx, 3, 2)).cumsum(0);
          Tensor e =
              F.embedding(t[1], Tensor.of(idx)); // repeated index 2: its gradient accumulates
          Tensor w = Tensor.where(t[0].gt(0.0), t[0], t[0].mul(-3.0)).var(new long[] {1}, 1, false);
          Tensor c = Tensor.cat(new Tensor[] {t[0], t[0].flip(0)}, 1).narrow(1, 2, 4).select(0, 1);
          Tensor i = F.interpolate(t[2], 3, 5, F.Interpolation.BILINEAR, false, false);
          Tensor sq = t[0].unsqueeze(0).expand(2, 3, 4).mean().add(dot(t[0].transpose(0, 1), wts));
          return p.pow(2)
              .sum()
              .add(g.pow(2).sum())
              .add(e.pow(3).sum())
              .add(w.sum())
              .add(c.pow(2).sum())
              .add(i.pow(2).sum())
              .add(sq)
              .add(t[0].vectorNorm(2, new long[] {0}, false).sum());
        },
        x,
        emb,
        img);
  }

  // ------------------------------------------------------------------ gradient bookkeeping

  @Example
  void gradIsNullBeforeBackwardAndAccumulates() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.of(new double[] {1, 2, 3}).requiresGrad_(true);
      assertThat(x.requiresGrad()).isTrue();
      assertThat(x.grad()).as("before backward").isNull();
      Tensor y = x.mul(x).sum(); // dy/dx = 2x
      y.backward(null, true); // keep the graph for a second pass
      assertThat(x.grad().toDoubleArray()).containsExactly(2, 4, 6);
      y.backward();
      assertThat(x.grad().toDoubleArray())
          .as("accumulated over two backward calls")
          .containsExactly(4, 8, 12);
      x.setGrad(null);
      assertThat(x.grad()).as("cleared").isNull();
      Tensor z = x.mul(3.0).sum();
      z.backward();
      assertThat(x.grad().toDoubleArray()).containsExactly(3, 3, 3);
      x.setGrad(Tensor.of(new double[] {1, 1, 1}));
      assertThat(x.grad().toDoubleArray()).containsExactly(1, 1, 1);
      // a non-scalar output with an explicit gradient
      Tensor v = x.mul(x);
      x.setGrad(null);
      v.backward(Tensor.of(new double[] {1, 10, 100}), false);
      assertThat(x.grad().toDoubleArray()).containsExactly(2, 40, 600);
      // intermediates do not keep a grad; detach cuts the graph
      assertThat(v.requiresGrad()).isTrue();
      assertThat(v.detach().requiresGrad()).isFalse();
    }
  }

  @Example
  void noGradAndInferenceModeResultsDoNotRequireGrad() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad_(true);
      assertThat(GradMode.isGradEnabled()).isTrue();
      try (GradMode g = GradMode.noGrad()) {
        assertThat(GradMode.isGradEnabled()).isFalse();
        assertThat(x.mul(2.0).requiresGrad()).isFalse();
        try (GradMode e = GradMode.enableGrad()) {
          assertThat(x.mul(2.0).requiresGrad()).as("enableGrad inside noGrad").isTrue();
        }
        assertThat(x.exp().requiresGrad()).isFalse();
      }
      try (GradMode g = GradMode.inferenceMode()) {
        assertThat(GradMode.isGradEnabled()).isFalse();
        assertThat(F.linear(x.reshape(1, 2), x.reshape(1, 2), null).requiresGrad()).isFalse();
      }
      assertThat(GradMode.isGradEnabled()).isTrue();
      assertThat(x.mul(2.0).requiresGrad()).as("restored after the guards").isTrue();
      // closing twice is harmless and does not restore twice
      GradMode g = GradMode.noGrad();
      g.close();
      g.close();
      assertThat(GradMode.isGradEnabled()).isTrue();
    }
  }

  /** What a thread observes while another thread holds a noGrad guard. */
  private static boolean requiresGradOnThisThread() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad_(true);
      return x.mul(x).requiresGrad() && GradMode.isGradEnabled();
    }
  }

  @Example
  void gradModeIsPerJavaThread() throws Exception {
    CountDownLatch guardOpen = new CountDownLatch(1);
    CountDownLatch othersDone = new CountDownLatch(1);
    AtomicReference<Boolean> insideGuard = new AtomicReference<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread holder =
        Thread.ofPlatform()
            .start(
                () -> {
                  try (GradMode g = GradMode.noGrad()) {
                    guardOpen.countDown();
                    othersDone.await(30, TimeUnit.SECONDS);
                    insideGuard.set(requiresGradOnThisThread());
                  } catch (Throwable t) {
                    failure.set(t);
                  }
                });
    assertThat(guardOpen.await(30, TimeUnit.SECONDS)).isTrue();
    // while the platform thread holds its guard: this thread, another platform thread and
    // virtual threads all still record gradients
    assertThat(requiresGradOnThisThread()).isTrue();
    try (ExecutorService virtual = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<Boolean> v1 = virtual.submit(GradCheckTest::requiresGradOnThisThread);
      assertThat(v1.get(30, TimeUnit.SECONDS)).isTrue();
    }
    AtomicReference<Boolean> other = new AtomicReference<>();
    Thread.ofPlatform().start(() -> other.set(requiresGradOnThisThread())).join();
    assertThat(other.get()).isTrue();
    othersDone.countDown();
    holder.join();
    assertThat(failure.get()).isNull();
    assertThat(insideGuard.get()).as("the guard still holds on its own thread").isFalse();
  }

  @Example
  void noGradOnVirtualThreadsStaysWithTheThread() throws Exception {
    int n = 32;
    try (ExecutorService virtual = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<?>[] fs = new Future<?>[n];
      for (int i = 0; i < n; i++) {
        boolean guarded = i % 2 == 0;
        fs[i] =
            virtual.submit(
                () -> {
                  for (int k = 0; k < 20; k++) {
                    if (guarded) {
                      try (GradMode g = GradMode.noGrad()) {
                        Thread.yield(); // may resume on another carrier thread
                        Thread.sleep(0, 1);
                        assertThat(requiresGradOnThisThread()).isFalse();
                      }
                    } else {
                      Thread.yield();
                      assertThat(requiresGradOnThisThread()).isTrue();
                    }
                  }
                  return null;
                });
      }
      for (Future<?> f : fs) {
        f.get(60, TimeUnit.SECONDS); // rethrows an assertion failure of the task
      }
    }
    // the main thread was never affected
    assertThat(requiresGradOnThisThread()).isTrue();
  }

  @Example
  void gradModeGuardIsConfinedToItsThread() throws Exception {
    GradMode g = GradMode.noGrad();
    try {
      AtomicReference<Throwable> error = new AtomicReference<>();
      Thread t =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      g.close();
                    } catch (Throwable e) {
                      error.set(e);
                    }
                  });
      t.join();
      assertThat(error.get())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("closed on the thread that opened it");
      assertThat(GradMode.isGradEnabled()).isFalse();
    } finally {
      g.close();
    }
    assertThat(GradMode.isGradEnabled()).isTrue();
  }
}
