package dev.rectok.torch;

import static dev.rectok.torch.Call.check;
import static dev.rectok.torch.Call.rethrow;

import dev.rectok.api.Device;
import dev.rectok.torch.internal.CallFrame;
import dev.rectok.torch.internal.Shim;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A LibTorch random generator ({@code torch.Generator}): create it once, seed it, and pass it to
 * every random op so results are reproducible. Bit-identical to PyTorch's {@code
 * torch.Generator().manual_seed(seed)} on the CPU.
 *
 * <p>Thread-safe (LibTorch locks the generator per op), but concurrent users interleave draws, so
 * give each reproducible stream its own generator. Owns a native object: close it.
 */
public final class TorchGenerator implements AutoCloseable {
  private final AtomicLong handle;
  private final Device device;

  private TorchGenerator(long handle, Device device) {
    this.handle = new AtomicLong(handle);
    this.device = device;
  }

  /** A CPU generator seeded with {@code seed}. */
  public static TorchGenerator cpu(long seed) {
    return create(Device.CPU, seed);
  }

  /** A generator for {@code device} seeded with {@code seed}. */
  public static TorchGenerator create(Device device, long seed) {
    CallFrame f = CallFrame.get();
    try {
      check(
          (int)
              Shim.rt_generator_new.MH.invokeExact(
                  f.ctx, Tensor.deviceType(device), device.index(), seed, f.out),
          f);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    return new TorchGenerator(f.outHandle(0), device);
  }

  /** The device this generator draws for. */
  public Device device() {
    return device;
  }

  static long handle(TorchGenerator g) {
    if (g == null) {
      return 0L;
    }
    long h = g.handle.get();
    if (h == 0) {
      throw new IllegalStateException("generator already closed");
    }
    return h;
  }

  /** Re-seeds ({@code manual_seed}). */
  public TorchGenerator manualSeed(long seed) {
    Ops.generatorManualSeed(this, seed);
    return this;
  }

  /** The full state as a uint8 tensor ({@code get_state}), e.g. for a training checkpoint. */
  public Tensor getState() {
    return Ops.generatorGetState(this);
  }

  /** Restores a state from {@link #getState()}. */
  public void setState(Tensor state) {
    Ops.generatorSetState(this, state);
  }

  @Override
  public void close() {
    long h = handle.getAndSet(0);
    if (h != 0) {
      try {
        Shim.rt_generator_free.MH.invokeExact(h);
      } catch (Throwable t) {
        throw rethrow(t);
      }
    }
  }
}
