package dev.rectok.torch.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Per-thread scratch for downcalls: the {@code rt_ctx} (grad mode in, error message out), the
 * out-handle slots, and a bump area for shape arrays. One per Java thread (virtual threads
 * included), so nothing here depends on the OS thread a call runs on.
 *
 * <p>Not thread-safe by design: used only by its own thread, and never across a nested call. Its
 * few KiB of native memory live as long as the frame object (an automatic arena); that is scratch,
 * not tensor memory, which is always freed explicitly.
 */
public final class CallFrame {
  private static final ThreadLocal<CallFrame> FRAMES = ThreadLocal.withInitial(CallFrame::new);
  private static final int OUT_SLOTS = 64;
  private static final long SCRATCH_BYTES = 8192;

  private final Arena arena = Arena.ofAuto();

  /** The rt_ctx of this thread. */
  public final MemorySegment ctx = arena.allocate(Shim.RT_CTX_SIZE, 8);

  /** Out-handle slots (rt_tensor**), also used for small scalar outputs. */
  public final MemorySegment out = arena.allocate(8L * OUT_SLOTS, 8);

  private final MemorySegment scratch = arena.allocate(SCRATCH_BYTES, 8);
  private MemorySegment overflow = MemorySegment.NULL;
  private long used;
  private long overflowUsed;

  private CallFrame() {}

  /** This thread's frame, with its bump area reset. */
  public static CallFrame get() {
    CallFrame f = FRAMES.get();
    f.used = 0;
    f.overflowUsed = 0;
    return f;
  }

  /** This thread's frame without resetting (for reading the grad mode). */
  public static CallFrame current() {
    return FRAMES.get();
  }

  /** Slot {@code i} of the out area as a pointer-sized cell. */
  public MemorySegment outSlot(int i) {
    return out.asSlice(8L * i, 8);
  }

  /** The handle written into out slot {@code i}. */
  public long outHandle(int i) {
    return out.getAtIndex(ValueLayout.JAVA_LONG, i);
  }

  /** Up to {@value #OUT_SLOTS} out slots; more need {@link #longs(int)}. */
  public static int outSlots() {
    return OUT_SLOTS;
  }

  /** Copies {@code values} into scratch memory valid until the next {@link #get()}. */
  public MemorySegment longs(long[] values) {
    MemorySegment seg = longs(values.length);
    MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_LONG, 0, values.length);
    return seg;
  }

  /** {@code n} uninitialised longs of scratch memory valid until the next {@link #get()}. */
  public MemorySegment longs(int n) {
    long bytes = 8L * Math.max(n, 1);
    if (used + bytes <= SCRATCH_BYTES) {
      MemorySegment seg = scratch.asSlice(used, bytes);
      used += bytes;
      return seg;
    }
    // Rare (cat of thousands of tensors): a larger area, kept for this thread's later calls.
    long need = overflowUsed + bytes;
    if (overflow.byteSize() < need) {
      if (overflowUsed > 0) {
        // Earlier slices of this call live in the old area; start a fresh one beside them.
        overflowUsed = 0;
        need = bytes;
      }
      overflow = arena.allocate(Math.max(need, 2 * overflow.byteSize()), 8);
    }
    MemorySegment seg = overflow.asSlice(overflowUsed, bytes);
    overflowUsed += bytes;
    return seg;
  }

  /**
   * The grad mode this thread passes with each call (an {@code RT_GRAD_*} / {@code
   * RT_INFERENCE_MODE} code).
   */
  public int gradMode() {
    return ctx.get(ValueLayout.JAVA_INT, Shim.RT_CTX_GRAD_MODE_OFFSET);
  }

  /** Sets the grad mode of this thread's calls. */
  public void gradMode(int mode) {
    ctx.set(ValueLayout.JAVA_INT, Shim.RT_CTX_GRAD_MODE_OFFSET, mode);
  }

  /** The autocast mode this thread passes with each call (an {@code RT_AUTOCAST_*} code). */
  public int autocast() {
    return ctx.get(ValueLayout.JAVA_INT, Shim.RT_CTX_AUTOCAST_OFFSET);
  }

  /** Sets the autocast mode of this thread's calls. */
  public void autocast(int mode) {
    ctx.set(ValueLayout.JAVA_INT, Shim.RT_CTX_AUTOCAST_OFFSET, mode);
  }

  /** The error message the last failing call wrote. */
  public String error() {
    return ctx.getString(Shim.RT_CTX_ERROR_OFFSET);
  }
}
