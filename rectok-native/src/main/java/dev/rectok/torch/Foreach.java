package dev.rectok.torch;

import static dev.rectok.torch.Call.check;
import static dev.rectok.torch.Call.rethrow;

import dev.rectok.torch.internal.CallFrame;
import dev.rectok.torch.internal.Shim;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;

/**
 * Fused parameter-group updates, one native call per group (the optimizers in {@code
 * dev.rectok.torch.optim} use them). They run without autograd, mutate the given tensors in place,
 * and skip parameters that have no gradient, as PyTorch does. Not thread-safe with respect to other
 * users of the same tensors.
 */
public final class Foreach {
  private Foreach() {}

  private static void sameLength(Tensor[] a, Object b, int bLength, String what) {
    if (bLength != a.length) {
      throw new IllegalArgumentException(
          what + " has " + bLength + " entries for " + a.length + " parameters");
    }
  }

  /**
   * One {@code torch.optim.AdamW} step over a group. {@code steps[i]} is parameter i's step count;
   * it is incremented for each parameter that has a gradient.
   */
  public static void adamwStep(
      Tensor[] params,
      Tensor[] expAvgs,
      Tensor[] expAvgSqs,
      long[] steps,
      double lr,
      double beta1,
      double beta2,
      double eps,
      double weightDecay) {
    sameLength(params, expAvgs, expAvgs.length, "exp_avgs");
    sameLength(params, expAvgSqs, expAvgSqs.length, "exp_avg_sqs");
    sameLength(params, steps, steps.length, "steps");
    CallFrame f = CallFrame.get();
    MemorySegment p = Call.handles(f, params);
    MemorySegment m = Call.handles(f, expAvgs);
    MemorySegment v = Call.handles(f, expAvgSqs);
    MemorySegment s = f.longs(steps);
    try {
      check(
          (int)
              Shim.rt_adamw_step.MH.invokeExact(
                  f.ctx, p, m, v, s, (long) params.length, lr, beta1, beta2, eps, weightDecay),
          f);
    } catch (Throwable t) {
      throw rethrow(t);
    } finally {
      Reference.reachabilityFence(params);
      Reference.reachabilityFence(expAvgs);
      Reference.reachabilityFence(expAvgSqs);
    }
    MemorySegment.copy(s, ValueLayout.JAVA_LONG, 0, steps, 0, steps.length);
  }

  /**
   * One {@code torch.optim.SGD} step; {@code firstStep} initialises the momentum buffers from the
   * gradient.
   */
  public static void sgdStep(
      Tensor[] params,
      Tensor[] momentumBuffers,
      double lr,
      double momentum,
      double dampening,
      double weightDecay,
      boolean nesterov,
      boolean firstStep) {
    CallFrame f = CallFrame.get();
    MemorySegment p = Call.handles(f, params);
    MemorySegment b = MemorySegment.NULL;
    if (momentum != 0) {
      sameLength(params, momentumBuffers, momentumBuffers.length, "momentum buffers");
      b = Call.handles(f, momentumBuffers);
    }
    try {
      check(
          (int)
              Shim.rt_sgd_step.MH.invokeExact(
                  f.ctx,
                  p,
                  b,
                  (long) params.length,
                  lr,
                  momentum,
                  dampening,
                  weightDecay,
                  nesterov ? 1 : 0,
                  firstStep ? 1 : 0),
          f);
    } catch (Throwable t) {
      throw rethrow(t);
    } finally {
      Reference.reachabilityFence(params);
      Reference.reachabilityFence(momentumBuffers);
    }
  }

  /**
   * {@code torch.nn.utils.clip_grad_norm_}: scales all gradients by {@code min(1, maxNorm / (total
   * + 1e-6))}.
   *
   * @return the total norm before clipping
   */
  public static double clipGradNorm_(Tensor[] params, double maxNorm, double normType) {
    CallFrame f = CallFrame.get();
    MemorySegment p = Call.handles(f, params);
    try {
      check(
          (int)
              Shim.rt_clip_grad_norm_.MH.invokeExact(
                  f.ctx, p, (long) params.length, maxNorm, normType, f.out),
          f);
    } catch (Throwable t) {
      throw rethrow(t);
    } finally {
      Reference.reachabilityFence(params);
    }
    return f.out.get(ValueLayout.JAVA_DOUBLE, 0);
  }

  /** {@code ema = decay * ema + (1 - decay) * param} for each pair. */
  public static void emaUpdate_(Tensor[] ema, Tensor[] params, double decay) {
    sameLength(params, ema, ema.length, "ema");
    Call.run(
        ema,
        params,
        f -> {
          MemorySegment e = Call.handles(f, ema);
          MemorySegment p = Call.handles(f, params);
          return (int) Shim.rt_ema_update_.MH.invokeExact(f.ctx, e, p, (long) params.length, decay);
        });
  }
}
