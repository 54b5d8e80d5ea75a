package dev.rectok.generate.transport;

import dev.rectok.api.DType;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.util.Objects;

/**
 * How a sampler turns the model into the velocity it integrates: a strategy, so the loop does not
 * know about guidance. The reference's three ({@code models/DDT.py}): {@link #none()} (cfg ≤ 1: the
 * conditional model), {@link Cfg} ({@code forward_with_cfg}) and {@link AutoGuidance} ({@code
 * forward_with_autoguidance}).
 *
 * <p>Contract of {@link #velocity}: arguments are borrowed; the result is a new tensor shaped like
 * {@code x}, owned by the caller. {@code t} is the step's time as a host float (so that interval
 * checks need no device round trip) and {@code tBatch} the same value as a (B,) float32 vector. The
 * provided strategies are immutable and thread-safe if their models are.
 */
public interface Guidance {

  /** The guided velocity at {@code x}, time {@code t}, for classes {@code labels}. */
  Tensor velocity(VelocityModel model, Tensor x, float t, Tensor tBatch, Tensor labels);

  /** Network evaluations per call (for cost estimates; CFG counts its doubled batch once). */
  default int evaluationsPerCall() {
    return 1;
  }

  /**
   * One sampling run of this guidance for fixed labels and batch: what does not change between
   * steps (CFG's doubled label vector, its doubled state and time buffers) is allocated once by
   * {@link #begin}, and the guidance arithmetic runs in place on the network output. The velocities
   * equal {@link #velocity}'s bit for bit (same float32 operations in the same order).
   *
   * <p>Not thread-safe: one run per sampling call. {@link #velocity(VelocityModel, Tensor, float,
   * Tensor) velocity} follows {@link Guidance#velocity}'s contract (arguments borrowed, a new
   * result owned by the caller, never a view of the run's buffers); {@link #close} frees the
   * buffers.
   */
  interface Run extends AutoCloseable {
    /** The guided velocity at {@code x}, time {@code t} ({@code tBatch}: the same as (B,)). */
    Tensor velocity(VelocityModel model, Tensor x, float t, Tensor tBatch);

    /**
     * Which code path {@link #velocity} takes at time {@code t} (e.g. inside or outside the
     * guidance interval): steps with the same branch launch the same kernels on tensors of the same
     * shapes, so one CUDA graph per branch can replay them. The default has one branch.
     */
    default int branch(float t) {
      return 0;
    }

    /** Frees the run's buffers. */
    @Override
    void close();
  }

  /**
   * Starts a run for {@code labels} (B,), borrowed for the run's lifetime, and states {@code x}
   * shaped like the state the sampler will pass. The default runs {@link #velocity} per step.
   */
  default Run begin(Tensor labels, Tensor x) {
    Guidance self = this;
    return new Run() {
      @Override
      public Tensor velocity(VelocityModel model, Tensor state, float t, Tensor tBatch) {
        return self.velocity(model, state, t, tBatch, labels);
      }

      @Override
      public void close() {}
    };
  }

  /**
   * {@link #combine} written into {@code strong} (which must be owned by the caller and not
   * aliased): {@code strong = base + w*(strong - base)}, the same float32 operations as {@link
   * #combine} (subtraction is ATen's add with alpha −1, and the final sum is commutative), with no
   * allocation.
   */
  static Tensor combineInPlace(Tensor base, Tensor strong, double scale) {
    return strong.add_(base, -1.0).mul_(scale).add_(base);
  }

  /** No guidance: v = model(x, t, y). */
  static Guidance none() {
    return None.INSTANCE;
  }

  /**
   * Classifier-free guidance with scale {@code scale}, null class {@code nullClass}, applied at
   * every t in [0, 1].
   */
  static Cfg cfg(double scale, long nullClass) {
    return new Cfg(scale, nullClass, 0.0, 1.0);
  }

  /**
   * AutoGuidance with the reference's scale 1.29 and a smaller guide model, at every t in [0, 1].
   */
  static AutoGuidance autoGuidance(VelocityModel guide) {
    return new AutoGuidance(guide, AutoGuidance.DEFAULT_SCALE, 0.0, 1.0);
  }

  /** AutoGuidance with scale {@code scale}, at every t in [0, 1]. */
  static AutoGuidance autoGuidance(VelocityModel guide, double scale) {
    return new AutoGuidance(guide, scale, 0.0, 1.0);
  }

  /**
   * The reference's guidance combination {@code base + w*(strong - base)}, float32 op order kept.
   */
  static Tensor combine(Tensor base, Tensor strong, double scale) {
    try (Scope s = Scope.open()) {
      return s.keep(base.add(strong.sub(base).mul(scale)));
    }
  }

  /** Refuses an empty guidance interval. */
  static void checkInterval(double lo, double hi) {
    if (!(lo <= hi)) {
      throw new IllegalArgumentException("guidance interval [" + lo + ", " + hi + "] is empty");
    }
  }

  /**
   * Whether {@code t} lies in the closed interval, as the reference's {@code (t >= lo) & (t <= hi)}
   * on a float32 tensor: PyTorch compares in float32, so the bounds are rounded to float first (t =
   * 0.3f is inside [0, 0.3] there, although 0.3f > 0.3 in double).
   */
  static boolean inInterval(float t, double lo, double hi) {
    return t >= (float) lo && t <= (float) hi;
  }

  /** The conditional model alone. */
  final class None implements Guidance {
    static final None INSTANCE = new None();

    private None() {}

    @Override
    public Tensor velocity(VelocityModel model, Tensor x, float t, Tensor tBatch, Tensor labels) {
      return model.velocity(x, tBatch, labels);
    }

    @Override
    public String toString() {
      return "Guidance.none";
    }
  }

  /**
   * Classifier-free guidance: the batch is doubled to [x; x] with labels [y; null], one model call,
   * then v = v_uncond + w·(v_cond − v_uncond) on all channels for t in [tMin, tMax] (inclusive);
   * outside it the conditional velocity is used. Only the conditional half is kept: the reference
   * carries a doubled state whose halves stay equal, so integrating one half gives the same values.
   * Outside the interval only the conditional batch is evaluated.
   *
   * @param scale guidance weight w (1: the conditional model)
   * @param nullClass the label of the unconditional class (the number of classes, e.g. 1000)
   */
  record Cfg(double scale, long nullClass, double tMin, double tMax) implements Guidance {
    /** Checks the interval. */
    public Cfg {
      checkInterval(tMin, tMax);
    }

    /** The same guidance restricted to t in [tMin, tMax]. */
    public Cfg withInterval(double min, double max) {
      return new Cfg(scale, nullClass, min, max);
    }

    @Override
    public Tensor velocity(VelocityModel model, Tensor x, float t, Tensor tBatch, Tensor labels) {
      if (!Guidance.inInterval(t, tMin, tMax)) {
        return model.velocity(x, tBatch, labels);
      }
      try (Scope s = Scope.open()) {
        long b = x.size(0);
        Tensor nulls = Tensor.full(new long[] {b}, nullClass, DType.INT64, labels.device());
        Tensor out =
            model.velocity(
                Tensor.cat(new Tensor[] {x, x}, 0),
                Tensor.cat(new Tensor[] {tBatch, tBatch}, 0),
                Tensor.cat(new Tensor[] {labels, nulls}, 0));
        Tensor cond = out.narrow(0, 0, b);
        Tensor uncond = out.narrow(0, b, b);
        return s.keep(Guidance.combine(uncond, cond, scale));
      }
    }

    /**
     * A run whose doubled labels [y; null], time and state buffers are allocated once; per step the
     * state is copied into both halves of the buffer (what {@code cat} did) and the combination is
     * written into the conditional half of the network output.
     */
    @Override
    public Run begin(Tensor labels, Tensor x) {
      long b = x.size(0);
      long[] doubled = x.shape();
      doubled[0] = 2 * b;
      Tensor yy = null;
      Tensor tt = null;
      Tensor xx = null;
      try (Scope s = Scope.open()) {
        Tensor nulls = Tensor.full(new long[] {b}, nullClass, DType.INT64, labels.device());
        yy = Tensor.cat(new Tensor[] {labels, nulls}, 0).escape();
        tt = Tensor.full(new long[] {2 * b}, 0, DType.FLOAT32, x.device()).escape();
        xx = Tensor.full(doubled, 0, x.dtype(), x.device()).escape();
      } catch (RuntimeException e) {
        for (Tensor t : new Tensor[] {yy, tt, xx}) {
          if (t != null) {
            t.close();
          }
        }
        throw e;
      }
      return new CfgRun(this, labels, yy, tt, xx, b);
    }
  }

  /** {@link Cfg#begin}'s run. */
  final class CfgRun implements Run {
    private final Cfg cfg;
    private final Tensor labels;
    private final Tensor yy;
    private final Tensor tt;
    private final Tensor xx;
    private final long b;

    private CfgRun(Cfg cfg, Tensor labels, Tensor yy, Tensor tt, Tensor xx, long b) {
      this.cfg = cfg;
      this.labels = labels;
      this.yy = yy;
      this.tt = tt;
      this.xx = xx;
      this.b = b;
    }

    @Override
    public Tensor velocity(VelocityModel model, Tensor x, float t, Tensor tBatch) {
      if (!Guidance.inInterval(t, cfg.tMin(), cfg.tMax())) {
        return model.velocity(x, tBatch, labels);
      }
      try (Scope s = Scope.open()) {
        xx.narrow(0, 0, b).copy_(x);
        xx.narrow(0, b, b).copy_(x);
        tt.narrow(0, 0, b).copy_(tBatch);
        tt.narrow(0, b, b).copy_(tBatch);
        Tensor out = model.velocity(xx, tt, yy);
        Tensor cond = out.narrow(0, 0, b);
        Tensor uncond = out.narrow(0, b, b);
        return s.keep(Guidance.combineInPlace(uncond, cond, cfg.scale()));
      }
    }

    @Override
    public int branch(float t) {
      return Guidance.inInterval(t, cfg.tMin(), cfg.tMax()) ? 1 : 0;
    }

    @Override
    public void close() {
      yy.close();
      tt.close();
      xx.close();
    }
  }

  /**
   * AutoGuidance: v = v_guide + w·(v_main − v_guide), where the guide is a second, weaker model
   * called with the same labels (no null class, no batch doubling); the reference uses w = 1.29 and
   * DiT^DH-S as the guide. Outside [tMin, tMax] (inclusive) the main model alone is used.
   */
  record AutoGuidance(VelocityModel guide, double scale, double tMin, double tMax)
      implements Guidance {
    /** The reference's AutoGuidance weight ({@code --cfg 1.29 --use_auto_guidance}). */
    public static final double DEFAULT_SCALE = 1.29;

    /** Checks the arguments. */
    public AutoGuidance {
      Objects.requireNonNull(guide, "guide");
      checkInterval(tMin, tMax);
    }

    /** The same guidance restricted to t in [tMin, tMax]. */
    public AutoGuidance withInterval(double min, double max) {
      return new AutoGuidance(guide, scale, min, max);
    }

    @Override
    public Tensor velocity(VelocityModel model, Tensor x, float t, Tensor tBatch, Tensor labels) {
      if (!Guidance.inInterval(t, tMin, tMax)) {
        return model.velocity(x, tBatch, labels);
      }
      try (Scope s = Scope.open()) {
        // The reference evaluates the guide first; the order does not change the values.
        Tensor weak = guide.velocity(x, tBatch, labels);
        Tensor strong = model.velocity(x, tBatch, labels);
        return s.keep(Guidance.combine(weak, strong, scale));
      }
    }

    @Override
    public int evaluationsPerCall() {
      return 2;
    }

    /** A run that writes the combination into the main network's output (no allocation). */
    @Override
    public Run begin(Tensor labels, Tensor x) {
      AutoGuidance ag = this;
      return new Run() {
        @Override
        public Tensor velocity(VelocityModel model, Tensor state, float t, Tensor tBatch) {
          if (!Guidance.inInterval(t, ag.tMin(), ag.tMax())) {
            return model.velocity(state, tBatch, labels);
          }
          try (Scope s = Scope.open()) {
            Tensor weak = ag.guide().velocity(state, tBatch, labels);
            Tensor strong = model.velocity(state, tBatch, labels);
            return s.keep(Guidance.combineInPlace(weak, strong, ag.scale()));
          }
        }

        @Override
        public int branch(float t) {
          return Guidance.inInterval(t, ag.tMin(), ag.tMax()) ? 1 : 0;
        }

        @Override
        public void close() {}
      };
    }
  }
}
