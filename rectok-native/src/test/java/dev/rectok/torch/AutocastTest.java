package dev.rectok.torch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.nn.Linear;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** bf16 autocast on the CPU exercises the same per-call mechanism the CUDA modes use. */
class AutocastTest {

  @Test
  void matmulRunsInBf16InsideAndFloat32AfterTheGuard() {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(1)) {
      Tensor a = Tensor.randn(g, 4, 8);
      Tensor b = Tensor.randn(g, 8, 3);
      try (Autocast ac = Autocast.enable(Device.CPU, DType.BFLOAT16)) {
        assertThat(Autocast.isEnabled()).isTrue();
        Tensor c = a.matmul(b);
        assertThat(c.dtype()).isEqualTo(DType.BFLOAT16);
        assertThat(c.to(DType.FLOAT32).sub(a.matmul(b).to(DType.FLOAT32)).abs().max().item())
            .isZero();
      }
      assertThat(Autocast.isEnabled()).isFalse();
      // the shim restored LibTorch's thread state after each call
      assertThat(a.matmul(b).dtype()).isEqualTo(DType.FLOAT32);
    }
  }

  @Test
  void gradientsReachFloat32ParametersThroughAnAutocastForward() {
    try (Linear lin = new Linear(8, 2, true);
        Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(2)) {
      lin.resetParameters(g);
      Tensor x = Tensor.randn(g, 5, 8);
      Tensor y;
      try (Autocast ac = Autocast.enable(Device.CPU, DType.BFLOAT16)) {
        y = lin.forward(x);
      }
      assertThat(y.dtype()).isEqualTo(DType.BFLOAT16);
      y.to(DType.FLOAT32).pow(2).mean().backward();
      Tensor grad = lin.weight().grad();
      assertThat(grad.dtype()).isEqualTo(DType.FLOAT32);
      assertThat(grad.abs().sum().item()).isPositive();
    }
  }

  @Test
  void theModeBelongsToTheJavaThread() throws Exception {
    AtomicReference<Boolean> other = new AtomicReference<>();
    try (Autocast ac = Autocast.enable(Device.CPU, DType.BFLOAT16)) {
      Thread t = Thread.ofVirtual().start(() -> other.set(Autocast.isEnabled()));
      t.join();
      try (Autocast off = Autocast.disable()) {
        assertThat(Autocast.isEnabled()).isFalse();
      }
      assertThat(Autocast.isEnabled()).isTrue();
    }
    assertThat(other.get()).isFalse();
  }

  @Test
  void unsupportedCombinationsAreRefused() {
    assertThatThrownBy(() -> Autocast.enable(Device.CPU, DType.FLOAT16))
        .hasMessageContaining("float16");
    assertThatThrownBy(() -> Autocast.enable(Device.CPU, DType.FLOAT64))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(Autocast.parse("bf16")).isEqualTo(DType.BFLOAT16);
    assertThat(Autocast.parse("none")).isNull();
    assertThatThrownBy(() -> Autocast.parse("fp8")).hasMessageContaining("none, bf16 or fp16");
  }
}
