package dev.rectok.models;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.Device;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Issue 10: an unavailable device is refused before a model file is even opened. */
class DeviceCheckTest {
  @Test
  void anUnavailableCudaDeviceIsRefusedBeforeLoading() {
    // the file does not exist: the device check must come first
    assertThatThrownBy(
            () -> RecTokTokenizer.open(Path.of("no-such-model.safetensors"), Device.cuda(99)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("device cuda:99 is not available: this LibTorch sees");
    DeviceCheck.requireAvailable(Device.CPU);
  }
}
