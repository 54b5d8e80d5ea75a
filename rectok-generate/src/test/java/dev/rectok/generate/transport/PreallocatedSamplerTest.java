package dev.rectok.generate.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.models.dit.DiTCheckpoints;
import dev.rectok.models.dit.DiTConfig;
import dev.rectok.models.dit.DiTwDDTHead;
import dev.rectok.models.golden.GoldenCase;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import java.nio.file.Path;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The sampler with its per-run buffers and in-place updates ({@link Sampler}, {@link
 * Guidance#begin}) against the loop it replaced, kept here as {@link #allocatingSample}: one
 * allocation per operation, the guidance through {@link Guidance#velocity}. They must agree bit for
 * bit, for every guidance, both integrators and guidance intervals that switch mid-run.
 */
class PreallocatedSamplerTest {

  /**
   * The sampler before issue 13's buffers: a new (B,) time vector per step, {@code cat} for CFG,
   * the combination and the update through new tensors.
   */
  static Tensor allocatingSample(
      Sampler sampler, VelocityModel model, Guidance guidance, Tensor noise, Tensor labels) {
    float[] grid = sampler.grid();
    long batch = noise.size(0);
    try (Scope s = Scope.open();
        GradMode g = GradMode.inferenceMode()) {
      Tensor x = noise.clone();
      Tensor y = labels.to(DType.INT64, x.device());
      for (int i = 0; i < sampler.steps(); i++) {
        float t0 = grid[i];
        float t1 = grid[i + 1];
        float dt = t1 - t0;
        try (Scope step = Scope.open()) {
          Tensor tb0 = Tensor.full(new long[] {batch}, t0, DType.FLOAT32, x.device());
          Tensor k1 = guidance.velocity(model, x, t0, tb0, y);
          if (sampler.method() == Sampler.Method.EULER) {
            x.add_(k1.mul(dt));
          } else {
            Tensor tb1 = Tensor.full(new long[] {batch}, t1, DType.FLOAT32, x.device());
            Tensor predicted = x.add(k1.mul(dt));
            Tensor k2 = guidance.velocity(model, predicted, t1, tb1, y);
            x.add_(k1.add(k2).mul(dt * 0.5f));
          }
        }
      }
      return s.keep(x);
    }
  }

  /** A nonlinear field that uses x, t and y, so every input reaching the model matters. */
  static VelocityModel field(double a) {
    return (x, t, y) -> {
      try (Scope s = Scope.open()) {
        long b = x.size(0);
        Tensor tt = t.reshape(b, 1, 1, 1);
        Tensor yy = y.to(DType.FLOAT32).reshape(b, 1, 1, 1).mul(0.1);
        return s.keep(x.tanh().mul(tt.add(a)).add(yy).sub(x.mul(0.5)));
      }
    };
  }

  static Guidance guidance(int kind, double scale, double lo, double hi) {
    return switch (kind) {
      case 0 -> Guidance.none();
      case 1 -> Guidance.cfg(scale, 9).withInterval(lo, hi);
      default -> Guidance.autoGuidance(field(0.7), scale).withInterval(lo, hi);
    };
  }

  @Property(tries = 40)
  void preallocatedEqualsAllocatingBitForBit(
      @ForAll @IntRange(min = 2, max = 12) int points,
      @ForAll @IntRange(min = 0, max = 2) int kind,
      @ForAll boolean heun,
      @ForAll @DoubleRange(min = 0, max = 3) double scale,
      @ForAll @DoubleRange(min = 0, max = 1) double lo,
      @ForAll @IntRange(min = 1, max = 3) int batch,
      @ForAll long seed) {
    double hi = Math.min(1.0, lo + 0.4);
    Sampler sampler = Sampler.of(heun ? Sampler.Method.HEUN : Sampler.Method.EULER, points, 2.0);
    try (Scope s = Scope.open();
        TorchGenerator gen = TorchGenerator.cpu(seed)) {
      Tensor noise = Tensor.randn(gen, batch, 2, 3, 3);
      Tensor y = Tensor.randint(0, 9, new long[] {batch}, gen, DType.INT64, Device.CPU);
      Guidance g = guidance(kind, scale, lo, hi);
      float[] fast = sampler.sample(field(0.3), g, noise, y).toFloatArray();
      float[] old = allocatingSample(sampler, field(0.3), g, noise, y).toFloatArray();
      assertThat(fast).containsExactly(old);
    }
  }

  /** The same on the golden case3b DiT^DH networks (CFG on the null class, AutoGuidance). */
  @Test
  void preallocatedEqualsAllocatingOnTheGoldenNetworks() throws Exception {
    Path dir = Path.of(System.getProperty("rectok.golden.dir"), "case3b_dit_sampling");
    try (GoldenCase gc = GoldenCase.open(dir);
        DiTwDDTHead net = new DiTwDDTHead(DiTConfig.fromConstructorKwargs(gc.config()));
        DiTwDDTHead guide =
            new DiTwDDTHead(
                DiTConfig.fromConstructorKwargs(gc.config().get("guide_constructor_kwargs")));
        Scope s = Scope.open();
        TorchGenerator gen = TorchGenerator.cpu(3)) {
      DiTCheckpoints.load(net, dir.resolve("weights.pth"));
      DiTCheckpoints.load(guide, dir.resolve("guide_weights.pth"));
      net.eval();
      guide.eval();
      DiTConfig c = net.config();
      Tensor noise = Tensor.randn(gen, 2, c.tokenChannels(), c.inputSize(), c.inputSize());
      Tensor y = Tensor.of(new long[] {1, 5});
      VelocityModel model = net::forward;
      Guidance[] all = {
        Guidance.none(),
        Guidance.cfg(1.5, c.numClasses()),
        Guidance.cfg(2.0, c.numClasses()).withInterval(0.2, 0.7),
        Guidance.autoGuidance(guide::forward, 1.29)
      };
      for (Guidance g : all) {
        for (Sampler sampler : new Sampler[] {Sampler.euler(7, 2.0), Sampler.heun(4, 2.0)}) {
          float[] fast = sampler.sample(model, g, noise, y).toFloatArray();
          float[] old = allocatingSample(sampler, model, g, noise, y).toFloatArray();
          assertThat(fast).as(g + " " + sampler.method()).containsExactly(old);
        }
      }
    }
  }

  /** CUDA graphs are refused on the CPU before the model is called once. */
  @Test
  void cudaGraphsAreRefusedOnTheCpuBeforeAnyWork() {
    java.util.concurrent.atomic.AtomicInteger calls =
        new java.util.concurrent.atomic.AtomicInteger();
    VelocityModel counting =
        (x, t, y) -> {
          calls.incrementAndGet();
          return x.clone();
        };
    try (Scope s = Scope.open()) {
      Tensor noise = Tensor.zeros(1, 2, 3, 3);
      Sampler graphs = Sampler.euler(5, 1.0).withCudaGraphs(true);
      assertThat(graphs.cudaGraphs()).isTrue();
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> graphs.sample(counting, noise, Tensor.of(new long[] {0})))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(
              "sampling with CUDA graphs: CUDA graphs need a CUDA device, not cpu");
      assertThat(calls).hasValue(0);
      // off again: the same sampler runs
      graphs.withCudaGraphs(false).sample(counting, noise, Tensor.of(new long[] {0}));
      assertThat(calls).hasValue(4);
    }
  }
}
