package dev.rectok.torch;

/**
 * A LibTorch operation failed: bad shapes, dtypes, devices, out-of-range indices, or a native
 * error. Unchecked, like PyTorch's {@code RuntimeError}; the message is LibTorch's own (without the
 * C++ backtrace). The JVM and every other tensor stay valid after it is thrown.
 *
 * <p>Immutable; safe to pass between threads.
 */
public class TorchException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;

  public TorchException(int status, String message) {
    super(message);
    this.status = status;
  }

  /** The shim's status code ({@code RT_ERR_TORCH}, {@code RT_ERR_ARG}, ...). */
  public int status() {
    return status;
  }
}
