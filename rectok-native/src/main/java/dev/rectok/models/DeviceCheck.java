package dev.rectok.models;

import dev.rectok.api.Device;
import dev.rectok.torch.Torch;

/**
 * Refuses a device this LibTorch does not have before any model is loaded, with a sentence instead
 * of LibTorch's dispatcher message after the work. Stateless and thread-safe.
 */
public final class DeviceCheck {
  private DeviceCheck() {}

  /**
   * Fails unless {@code device} is the CPU or a CUDA device this LibTorch sees.
   *
   * @throws IllegalArgumentException naming the device and the devices there are
   */
  public static void requireAvailable(Device device) {
    if (device == null || !device.isCuda()) {
      return;
    }
    int n = Torch.cudaDeviceCount();
    if (Math.max(0, device.index()) >= n) {
      throw new IllegalArgumentException(
          "device "
              + device
              + " is not available: this LibTorch sees "
              + n
              + " CUDA device"
              + (n == 1 ? "" : "s")
              + (n == 0
                  ? " (a CPU build or no GPU); use cpu"
                  : "; use cuda:0..cuda:" + (n - 1) + " or cpu"));
    }
  }
}
