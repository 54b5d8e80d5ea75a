package dev.rectok.torch;

import dev.rectok.api.Device;

/**
 * Refuses a device this process cannot use, with a plain sentence instead of LibTorch's
 * dispatcher dump. Stateless; thread-safe.
 */
public final class DeviceCheck {
  private DeviceCheck() {}

  /**
   * Returns normally for the CPU and for a CUDA device that exists.
   *
   * @throws IllegalArgumentException for CUDA on a CPU-only LibTorch (or a machine without GPUs)
   *     or a CUDA index past the last device
   */
  public static void require(Device device) {
    if (!device.isCuda()) {
      return;
    }
    int n = Torch.cudaDeviceCount();
    if (n == 0) {
      throw new IllegalArgumentException("device " + device + " is not available: this LibTorch ("
          + Torch.version() + ") has no CUDA support or sees no GPU; use --device cpu (Device.CPU), or build the "
          + "shim against a CUDA LibTorch (native/cuda-check.sh)");
    }
    if (device.index() >= n) {
      throw new IllegalArgumentException("device " + device + " does not exist: " + n + " CUDA device"
          + (n == 1 ? "" : "s") + " visible (cuda:0" + (n > 1 ? "..cuda:" + (n - 1) : "") + ")");
    }
  }
}
