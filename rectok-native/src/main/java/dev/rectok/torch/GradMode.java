package dev.rectok.torch;

import dev.rectok.torch.internal.CallFrame;
import dev.rectok.torch.internal.Shim;

/**
 * Autograd mode of the current Java thread, as a try-with-resources guard:
 *
 * <pre>{@code
 * try (GradMode g = GradMode.noGrad()) { ... }          // torch.no_grad()
 * try (GradMode g = GradMode.inferenceMode()) { ... }   // torch.inference_mode()
 * }</pre>
 *
 * <p>The mode travels with every native call (it is not LibTorch's OS-thread-local state), so it
 * stays correct for virtual threads that move between carriers. A guard must be closed on the
 * thread that opened it; guards nest.
 */
public final class GradMode implements AutoCloseable {
  private final int previous;
  private final Thread owner;
  private boolean closed;

  private GradMode(int mode) {
    CallFrame f = CallFrame.current();
    this.previous = f.gradMode();
    this.owner = Thread.currentThread();
    f.gradMode(mode);
  }

  /** Disables gradient recording ({@code torch.no_grad()}). */
  public static GradMode noGrad() {
    return new GradMode(Shim.RT_GRAD_DISABLED);
  }

  /** Enables gradient recording inside an outer no-grad region ({@code torch.enable_grad()}). */
  public static GradMode enableGrad() {
    return new GradMode(Shim.RT_GRAD_ENABLED);
  }

  /**
   * {@code torch.inference_mode()}: no autograd bookkeeping at all; results can't enter autograd
   * later.
   */
  public static GradMode inferenceMode() {
    return new GradMode(Shim.RT_INFERENCE_MODE);
  }

  /** Whether operations on this thread currently record gradients. */
  public static boolean isGradEnabled() {
    return CallFrame.current().gradMode() == Shim.RT_GRAD_ENABLED;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    if (Thread.currentThread() != owner) {
      throw new IllegalStateException(
          "a GradMode guard must be closed on the thread that opened it");
    }
    closed = true;
    CallFrame.current().gradMode(previous);
  }
}
