package dev.rectok.torch.distributed;

import dev.rectok.torch.internal.CallFrame;
import dev.rectok.torch.internal.Shim;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Status checking and pointer plumbing shared by the classes of this package. */
final class Native {
  private Native() {}

  /** Throws the shim's message as a {@link DistributedException} when {@code status} is not OK. */
  static void check(int status, CallFrame f, String what) {
    if (status != Shim.RT_OK) {
      throw new DistributedException(what + ": " + f.error());
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

  /** The pointer the last call wrote into out slot 0. */
  static MemorySegment outPointer(CallFrame f) {
    return f.outSlot(0).get(ValueLayout.ADDRESS, 0);
  }

  /** Whether this shim was built with c10d and Gloo. */
  static boolean available() {
    try {
      return (int) Shim.rt_distributed_available.MH.invokeExact() != 0;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  static long millis(java.time.Duration d, String what) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + " must be positive, got " + d);
    }
    return Math.max(1, d.toMillis());
  }
}
