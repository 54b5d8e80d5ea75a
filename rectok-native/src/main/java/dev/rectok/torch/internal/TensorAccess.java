package dev.rectok.torch.internal;

import dev.rectok.torch.Tensor;

/**
 * Gives binding code outside package {@code dev.rectok.torch} (e.g. {@code
 * dev.rectok.torch.distributed}) the native handle of a {@link Tensor} without making it public
 * API. Not exported by the module.
 *
 * <p>The caller borrows the handle: the tensor keeps ownership, and the caller keeps the tensor
 * reachable until the native call returned ({@code Reference.reachabilityFence}). Thread-safe.
 */
public final class TensorAccess {
  /** Implemented inside {@code dev.rectok.torch}. */
  public interface Bridge {
    /** The live native handle of {@code t}; throws if it is closed. */
    long handle(Tensor t);
  }

  private static volatile Bridge bridge;

  private TensorAccess() {}

  /** Called once by {@code dev.rectok.torch}'s bridge class. */
  public static void install(Bridge b) {
    bridge = b;
  }

  /** The borrowed native handle of {@code t}. */
  public static long handle(Tensor t) {
    Bridge b = bridge;
    if (b == null) {
      try {
        Class.forName(
            "dev.rectok.torch.TensorAccessBridge", true, TensorAccess.class.getClassLoader());
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException(e);
      }
      b = bridge;
    }
    return b.handle(t);
  }
}
