package dev.rectok.torch;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.internal.CallFrame;
import dev.rectok.torch.internal.Shim;

/**
 * Mixed precision of the current Java thread ({@code torch.autocast(device_type, dtype)}), as a
 * try-with-resources guard:
 *
 * <pre>{@code
 * try (Autocast a = Autocast.enable(Device.parse("cuda:0"), DType.BFLOAT16)) {
 *   loss = model.forward(x) ...;   // matmuls and convolutions run in bf16
 * }
 * loss.backward();                 // outside, as PyTorch recommends
 * }</pre>
 *
 * <p>Like {@link GradMode}, the mode travels with every native call instead of living in LibTorch's
 * OS-thread-local state, so it is correct on virtual threads. The autocast weight cache is off
 * (each call casts afresh), because no outer region exists whose end would free it. A guard must be
 * closed on the thread that opened it; guards nest.
 */
public final class Autocast implements AutoCloseable {
  private final int previous;
  private final Thread owner;
  private boolean closed;

  private Autocast(int mode) {
    CallFrame f = CallFrame.current();
    this.previous = f.autocast();
    this.owner = Thread.currentThread();
    f.autocast(mode);
  }

  /**
   * Autocast on {@code device}'s type with {@code dtype}: bf16 on CPU or CUDA, fp16 on CUDA.
   *
   * @throws IllegalArgumentException for other combinations
   */
  public static Autocast enable(Device device, DType dtype) {
    int mode;
    if (device.isCuda() && dtype == DType.BFLOAT16) {
      mode = Shim.RT_AUTOCAST_CUDA_BF16;
    } else if (device.isCuda() && dtype == DType.FLOAT16) {
      mode = Shim.RT_AUTOCAST_CUDA_FP16;
    } else if (!device.isCuda() && dtype == DType.BFLOAT16) {
      mode = Shim.RT_AUTOCAST_CPU_BF16;
    } else {
      throw new IllegalArgumentException(
          "autocast supports bfloat16 on cpu and bfloat16/float16 on cuda, not "
              + dtype
              + " on "
              + device);
    }
    return new Autocast(mode);
  }

  /**
   * The autocast dtype a setting names: {@code "none"} (null: float32), {@code "bf16"} or {@code
   * "fp16"}.
   *
   * @throws IllegalArgumentException for any other name
   */
  public static DType parse(String name) {
    return switch (name) {
      case "none" -> null;
      case "bf16" -> DType.BFLOAT16;
      case "fp16" -> DType.FLOAT16;
      default ->
          throw new IllegalArgumentException(
              "autocast must be none, bf16 or fp16, got '" + name + "'");
    };
  }

  /** Turns autocast off inside an enclosing region. */
  public static Autocast disable() {
    return new Autocast(Shim.RT_AUTOCAST_OFF);
  }

  /** Whether calls on this thread currently run under autocast. */
  public static boolean isEnabled() {
    return CallFrame.current().autocast() != Shim.RT_AUTOCAST_OFF;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    if (Thread.currentThread() != owner) {
      throw new IllegalStateException(
          "an Autocast guard must be closed on the thread that opened it");
    }
    closed = true;
    CallFrame.current().autocast(previous);
  }
}
