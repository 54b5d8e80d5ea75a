package dev.rectok.generate.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.api.Progress;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class SamplerTest {

  static Tensor labels(long... y) {
    return Tensor.of(y);
  }

  static float maxAbsDiff(float[] a, float[] b) {
    float m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  /** The flow between a known pair: v = x1 − x0 everywhere, so Euler from x0 lands on x1. */
  @Property(tries = 25)
  void eulerOnTheStraightFieldLandsOnTheData(
      @ForAll @IntRange(min = 2, max = 60) int points,
      @ForAll @DoubleRange(min = 0, max = 4) double shift,
      @ForAll long seed) {
    Sampler sampler = Sampler.euler(points, shift);
    float[] grid = sampler.grid();
    try (Scope s = Scope.open();
        TorchGenerator gen = TorchGenerator.cpu(seed)) {
      Tensor x0 = Tensor.randn(gen, 2, 3, 4, 4);
      Tensor x1 = Tensor.randn(gen, 2, 3, 4, 4);
      Tensor u = LinearPath.velocityTarget(x0, x1);
      Tensor out = sampler.sample((x, t, y) -> u.clone(), x0, labels(0, 1));
      // The path covers grid[0]..grid[last]: exactly [0, 1] except for 0 < shift <= 1, whose
      // last point may be 0.99999994 as in the reference.
      Tensor expected =
          LinearPath.interpolate(
              x0, x1, Tensor.full(new long[] {2}, grid[points - 1], DType.FLOAT32, Device.CPU));
      assertThat(maxAbsDiff(out.toFloatArray(), expected.toFloatArray())).isLessThan(2e-5f);
      if (shift > 1 || shift <= 0) {
        assertThat(maxAbsDiff(out.toFloatArray(), x1.toFloatArray())).isLessThan(2e-5f);
      }
    }
  }

  /** v(t) = a + b·t: Heun (trapezoid) integrates it exactly, Euler does not. */
  @Property(tries = 20)
  void heunIsExactOnTimeLinearFields(
      @ForAll @IntRange(min = 2, max = 12) int points,
      @ForAll @DoubleRange(min = 1, max = 4) double shift) {
    float a = 0.7f;
    float b = -2.5f;
    VelocityModel field =
        (x, t, y) -> {
          try (Scope s = Scope.open()) {
            return s.keep(t.mul(b).add(a).reshape(x.size(0), 1).expand(x.shape()).contiguous());
          }
        };
    float[] grid = Sampler.heun(points, shift).grid();
    double t0 = grid[0];
    double tn = grid[points - 1];
    double exact = 0.5 + a * (tn - t0) + b / 2 * (tn * tn - t0 * t0);
    try (Scope s = Scope.open()) {
      Tensor x0 = Tensor.full(new long[] {3, 5}, 0.5, DType.FLOAT32, Device.CPU);
      Tensor heun = Sampler.heun(points, shift).sample(field, x0, labels(0, 0, 0));
      for (float v : heun.toFloatArray()) {
        assertThat((double) v).isCloseTo(exact, org.assertj.core.api.Assertions.within(1e-5));
      }
      if (points <= 4) {
        Tensor euler = Sampler.euler(points, shift).sample(field, x0, labels(0, 0, 0));
        assertThat(Math.abs(euler.toFloatArray()[0] - exact)).isGreaterThan(1e-3);
      }
    }
  }

  /** A class-dependent toy field: v = 2x + y + t (y as a float). */
  static Tensor toy(Tensor x, Tensor t, Tensor y, float gain) {
    try (Scope s = Scope.open()) {
      Tensor yy = LinearPath.broadcastable(y.to(DType.FLOAT32), x);
      Tensor tt = LinearPath.broadcastable(t, x);
      return s.keep(x.mul(gain).add(yy).add(tt));
    }
  }

  @Test
  void cfgCombinesCondAndUncondInsideTheIntervalOnly() {
    List<long[]> seenLabels = new ArrayList<>();
    VelocityModel model =
        (x, t, y) -> {
          seenLabels.add(y.toLongArray());
          return toy(x, t, y, 2f);
        };
    float w = 1.5f;
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.of(new float[] {0.5f, -1f, 2f, 3f}, 2, 2);
      Tensor y = labels(3, 7);
      Tensor tb = Tensor.full(new long[] {2}, 0.25, DType.FLOAT32, Device.CPU);
      Guidance.Cfg cfg = Guidance.cfg(w, 10);
      float[] v = cfg.velocity(model, x, 0.25f, tb, y).toFloatArray();
      assertThat(seenLabels.getFirst()).containsExactly(3, 7, 10, 10); // [y; null], one call
      float[] xs = {0.5f, -1f, 2f, 3f};
      long[] ys = {3, 3, 7, 7};
      for (int i = 0; i < 4; i++) {
        float cond = 2f * xs[i] + ys[i] + 0.25f;
        float uncond = 2f * xs[i] + 10 + 0.25f;
        assertThat(v[i]).isEqualTo(uncond + (cond - uncond) * w);
      }
      // Outside [tMin, tMax] the conditional velocity alone, from the undoubled batch.
      seenLabels.clear();
      float[] outside = cfg.withInterval(0.5, 1.0).velocity(model, x, 0.25f, tb, y).toFloatArray();
      assertThat(seenLabels.getFirst()).containsExactly(3, 7);
      for (int i = 0; i < 4; i++) {
        assertThat(outside[i]).isEqualTo(2f * xs[i] + ys[i] + 0.25f);
      }
      // Bounds compare in float32 like the reference's tensor comparison: 0.3f is inside [0, 0.3].
      seenLabels.clear();
      cfg.withInterval(0.0, 0.3).velocity(model, x, 0.3f, tb, y);
      assertThat(seenLabels.getFirst()).hasSize(4);
      // The interval is closed: t == tMin is inside.
      seenLabels.clear();
      cfg.withInterval(0.25, 0.5).velocity(model, x, 0.25f, tb, y);
      assertThat(seenLabels.getFirst()).hasSize(4);
    }
  }

  @Test
  void autoGuidanceExtrapolatesFromTheGuideWithTheSameLabels() {
    List<long[]> guideLabels = new ArrayList<>();
    VelocityModel main = (x, t, y) -> toy(x, t, y, 3f);
    VelocityModel guide =
        (x, t, y) -> {
          guideLabels.add(y.toLongArray());
          return toy(x, t, y, 1f);
        };
    Guidance.AutoGuidance ag = Guidance.autoGuidance(guide);
    assertThat(ag.scale()).isEqualTo(1.29);
    float w = (float) 1.29;
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.of(new float[] {0.5f, -1f, 2f, 3f}, 2, 2);
      Tensor tb = Tensor.full(new long[] {2}, 0.75, DType.FLOAT32, Device.CPU);
      float[] v = ag.velocity(main, x, 0.75f, tb, labels(3, 7)).toFloatArray();
      assertThat(guideLabels.getFirst()).containsExactly(3, 7);
      float[] xs = {0.5f, -1f, 2f, 3f};
      long[] ys = {3, 3, 7, 7};
      for (int i = 0; i < 4; i++) {
        float strong = 3f * xs[i] + ys[i] + 0.75f;
        float weak = xs[i] + ys[i] + 0.75f;
        assertThat(v[i]).isEqualTo(weak + (strong - weak) * w);
      }
    }
  }

  @Test
  void sameSeedGivesTheSameSamplesWithEveryGuidance() {
    VelocityModel model =
        (x, t, y) -> {
          try (Scope s = Scope.open()) {
            return s.keep(x.tanh().neg().add(toy(x, t, y, 0.1f)));
          }
        };
    VelocityModel guide = (x, t, y) -> toy(x, t, y, 0.05f);
    Sampler sampler = Sampler.euler(12, Math.sqrt(1.25));
    for (Guidance g :
        List.of(Guidance.none(), Guidance.cfg(1.5, 10), Guidance.autoGuidance(guide))) {
      float[][] runs = new float[2][];
      for (int r = 0; r < 2; r++) {
        try (Scope s = Scope.open();
            TorchGenerator gen = TorchGenerator.cpu(42)) {
          Tensor noise = Tensor.randn(gen, 2, 4, 3, 3);
          runs[r] = sampler.sample(model, g, noise, labels(1, 2)).toFloatArray();
        }
      }
      assertThat(runs[1]).as(g.toString()).containsExactly(runs[0]);
    }
  }

  @Test
  void reportsProgressAndStatesWithoutLeakingOrTouchingTheNoise() {
    List<String> events = new ArrayList<>();
    Progress progress =
        new Progress() {
          @Override
          public void start(String task, long total) {
            events.add("start " + total);
          }

          @Override
          public void update(long done, String status) {
            events.add("update " + done);
          }

          @Override
          public void end() {
            events.add("end");
          }
        };
    List<Integer> points = new ArrayList<>();
    List<Tensor> kept = new ArrayList<>();
    Sampler sampler = Sampler.euler(5, 2.0);
    try (Tensor noise = Tensor.ones(2, 3);
        Tensor y = labels(0, 0)) {
      long live = Tensor.liveHandles();
      Sampler.Hooks hooks =
          Sampler.Hooks.NONE
              .withProgress(progress)
              .withListener(
                  (p, t, state) -> {
                    points.add(p);
                    kept.add(state.clone()); // the listener's copies belong to the caller
                  });
      try (Tensor out = sampler.sample((x, t, l) -> x.mul(0.5), Guidance.none(), noise, y, hooks)) {
        assertThat(out.shape()).containsExactly(2, 3);
        assertThat(Tensor.liveHandles()).isEqualTo(live + 1 + 4);
        // Each kept state is the previous one advanced by dt * 0.5 * x, and the last is the output.
        assertThat(kept.get(3).equal(out)).isTrue();
        assertThat(kept.get(0).toFloatArray()[0]).isGreaterThan(1f);
      }
      kept.forEach(Tensor::close);
      assertThat(Tensor.liveHandles()).isEqualTo(live);
      assertThat(noise.toFloatArray()).containsOnly(1f);
    }
    assertThat(events)
        .containsExactly("start 4", "update 1", "update 2", "update 3", "update 4", "end");
    assertThat(points).containsExactly(1, 2, 3, 4);
  }

  @Test
  void cancellationStopsBeforeTheNextStep() {
    AtomicInteger calls = new AtomicInteger();
    List<String> events = new ArrayList<>();
    Progress progress =
        new Progress() {
          @Override
          public void end() {
            events.add("end");
          }
        };
    Sampler sampler = Sampler.euler(150, Math.sqrt(8));
    try (Tensor noise = Tensor.zeros(1, 2);
        Tensor y = labels(0)) {
      long live = Tensor.liveHandles();
      Sampler.Hooks hooks =
          new Sampler.Hooks(progress, () -> calls.get() >= 3, Sampler.StepListener.NONE);
      assertThatThrownBy(
              () ->
                  sampler.sample(
                      (x, t, l) -> {
                        calls.incrementAndGet();
                        return x.add(1.0);
                      },
                      Guidance.none(),
                      noise,
                      y,
                      hooks))
          .isInstanceOfSatisfying(
              SamplingCancelledException.class,
              e -> {
                assertThat(e.completedSteps()).isEqualTo(3);
                assertThat(e.totalSteps()).isEqualTo(149);
              })
          .hasMessageContaining("cancelled after 3 of 149 steps");
      assertThat(calls.get()).isEqualTo(3);
      assertThat(events).containsExactly("end");
      assertThat(Tensor.liveHandles()).isEqualTo(live); // the partial state was freed

      calls.set(0);
      try {
        assertThatThrownBy(
                () ->
                    sampler.sample(
                        (x, t, l) -> {
                          if (calls.incrementAndGet() == 2) {
                            Thread.currentThread().interrupt();
                          }
                          return x.add(1.0);
                        },
                        noise,
                        y))
            .isInstanceOf(SamplingCancelledException.class)
            .hasMessageContaining("interrupted after 2 of");
        assertThat(Thread.currentThread().isInterrupted()).isTrue();
      } finally {
        Thread.interrupted();
      }
    }
  }
}
