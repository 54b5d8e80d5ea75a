package dev.rectok.torch;

import dev.rectok.torch.internal.CallFrame;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.ref.Reference;

/**
 * Downcall helpers shared by the generated {@code Ops} wrappers and the hand-written bindings (host
 * buffers, scalar outputs, several outputs). Small enough to inline, so the constant {@link
 * MethodHandle} of the caller reaches {@code invokeExact} and the call is direct.
 */
final class Call {
  private Call() {}

  static void check(int status, CallFrame f) {
    if (status != 0) {
      throw new TorchException(status, f.error());
    }
  }

  static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      return r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException(t);
  }

  static Tensor out(CallFrame f) {
    return Tensor.adopt(f.outHandle(0));
  }

  /** One downcall on this thread's frame; returns the shim's status. */
  @FunctionalInterface
  interface Downcall {
    int invoke(CallFrame f) throws Throwable;
  }

  private static CallFrame call(Downcall c) {
    CallFrame f = CallFrame.get();
    int status;
    try {
      status = c.invoke(f);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    check(status, f);
    return f;
  }

  // The keep arguments stay reachable until the call returned: handles travel as plain longs,
  // so without the fence a tensor could be freed by the leak detector mid-call.

  /** A call that returns a new tensor in out slot 0. */
  static Tensor tensor(Downcall c) {
    return out(call(c));
  }

  static void run(Object keep, Downcall c) {
    try {
      call(c);
    } finally {
      Reference.reachabilityFence(keep);
    }
  }

  static void run(Object k1, Object k2, Downcall c) {
    try {
      call(c);
    } finally {
      Reference.reachabilityFence(k1);
      Reference.reachabilityFence(k2);
    }
  }

  /** Handle of an optional tensor: 0 (NULL) when absent. */
  static long opt(Tensor t) {
    return t == null ? 0L : t.handle();
  }

  /** Writes the handles of {@code ts} into scratch, as an rt_tensor** array. */
  static MemorySegment handles(CallFrame f, Tensor[] ts) {
    MemorySegment arr = f.longs(ts.length);
    for (int i = 0; i < ts.length; i++) {
      arr.setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, i, ts[i].handle());
    }
    return arr;
  }
}
