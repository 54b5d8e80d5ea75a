package dev.rectok.train;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.rectok.api.Backends;
import dev.rectok.api.Device;
import dev.rectok.api.FlowDistillerSpec;
import dev.rectok.torch.Torch;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training on CUDA with a CPU-only LibTorch is refused with one sentence, before any work. */
class CudaOnCpuTest {
  @Test
  void aCudaDeviceIsAPlainSentence(@TempDir Path tmp) {
    assumeTrue(Torch.cudaDeviceCount() == 0, "this LibTorch has CUDA devices");
    FlowDistillerSpec spec =
        FlowDistillerSpec.builder(tmp.resolve("run"), tmp.resolve("data"))
            .teacher(tmp.resolve("teacher.safetensors"))
            .device(Device.cuda(0))
            .build();
    assertThatThrownBy(() -> Backends.openFlowDistiller(spec))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cuda:0 is not available")
        .satisfies(
            e ->
                org.assertj.core.api.Assertions.assertThat(e.getMessage().length())
                    .isLessThan(400));
  }
}
