package dev.rectok.cli;

import dev.rectok.api.Device;
import picocli.CommandLine.Option;

/** {@code --device cpu|cuda:N}, shared by the model commands. */
final class DeviceOption {
  @Option(
      names = "--device",
      description = "cpu or cuda:N (PyTorch syntax; default: ${DEFAULT-VALUE})")
  String device = "cpu";

  Device get() {
    return Device.parse(device);
  }
}
