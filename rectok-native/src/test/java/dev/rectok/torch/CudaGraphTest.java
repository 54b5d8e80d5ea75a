package dev.rectok.torch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.internal.CallFrame;
import dev.rectok.torch.internal.Shim;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * CUDA graphs (issue 13): refused with the reason where they cannot run (a CPU device; a shim built
 * without them, as every CPU build is), through the C ABI too; on a CUDA 2.x build (run by
 * native/cuda-check.sh with {@code -Drectok.test.device=cuda:0}) a captured block replays on new
 * input values.
 */
class CudaGraphTest {
  static final Device DEVICE = Device.parse(System.getProperty("rectok.test.device", "cpu"));

  @Test
  void refusedOnTheCpuBeforeTheBlockRuns() {
    AtomicInteger ran = new AtomicInteger();
    assertThatThrownBy(() -> CudaGraph.capture(Device.CPU, ran::incrementAndGet))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("CUDA graphs need a CUDA device, not cpu");
    assertThat(ran).hasValue(0);
    assertThat(CudaGraph.unsupportedReason(Device.CPU)).contains("CUDA device");
  }

  @Test
  void aShimWithoutGraphsSaysWhyAlsoThroughTheCAbi() throws Throwable {
    if (CudaGraph.available()) {
      return; // a CUDA 2.x build: the replay test below covers it
    }
    assertThat(CudaGraph.unsupportedReason(Device.parse("cuda:0")))
        .contains("CUDA build of LibTorch 2.x");
    assertThatThrownBy(() -> CudaGraph.capture(Device.parse("cuda:0"), () -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("CUDA build of LibTorch 2.x");
    CallFrame f = CallFrame.get();
    int status = (int) Shim.rt_cuda_graph_new.MH.invokeExact(f.ctx, 0, f.out);
    assertThat(status).isNotZero();
    assertThat(f.error()).contains("CUDA graphs need a CUDA build of LibTorch 2.x");
  }

  @Test
  void aCapturedBlockReplaysOnNewInputs() {
    if (CudaGraph.unsupportedReason(DEVICE) != null) {
      assertThat(DEVICE.isCuda() && CudaGraph.available()).isFalse();
      return; // nothing to replay on this build/device: the refusals above are the contract
    }
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.full(new long[] {4, 8}, 1, DType.FLOAT32, DEVICE);
      Tensor y = Tensor.full(new long[] {4, 8}, 0, DType.FLOAT32, DEVICE);
      Runnable block =
          () -> {
            try (Scope inner = Scope.open()) {
              y.copy_(x.mul(2.0).add(1.0));
            }
          };
      block.run(); // warm-up, as the sampler does
      try (CudaGraph g = CudaGraph.capture(DEVICE, block)) {
        x.fill_(3);
        g.replay();
        assertThat(y.toFloatArray()).containsOnly(7f);
        x.fill_(-1);
        g.replay();
        assertThat(y.toFloatArray()).containsOnly(-1f);
      }
    }
  }
}
