package dev.rectok.torch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import org.junit.jupiter.api.Test;

class TensorBasicsTest {

  @Test
  void roundTripsDataAndMetadata() {
    try (Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)) {
      assertThat(t.shape()).containsExactly(2, 3);
      assertThat(t.dtype()).isEqualTo(DType.FLOAT32);
      assertThat(t.device()).isEqualTo(Device.CPU);
      assertThat(t.toFloatArray()).containsExactly(1, 2, 3, 4, 5, 6);
      assertThat(t.stride()).containsExactly(3, 1);
      try (Tensor tt = t.transpose(0, 1);
          Tensor c = tt.contiguous()) {
        assertThat(tt.stride()).containsExactly(1, 3);
        assertThat(c.toFloatArray()).containsExactly(1, 4, 2, 5, 3, 6);
      }
    }
  }

  @Test
  void matmulShapeErrorCarriesLibTorchsMessage() {
    try (Tensor a = Tensor.zeros(2, 3);
        Tensor b = Tensor.zeros(4, 5)) {
      assertThatThrownBy(() -> a.matmul(b))
          .isInstanceOf(TorchException.class)
          .hasMessageContaining("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)");
      // the JVM and the operands are fine afterwards
      try (Tensor b2 = Tensor.zeros(3, 1);
          Tensor c = a.matmul(b2)) {
        assertThat(c.shape()).containsExactly(2, 1);
      }
    }
  }

  @Test
  void autogradComputesGradients() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.of(new double[] {1, 2, 3}).requiresGrad_(true);
      Tensor y = x.mul(x).sum();
      y.backward();
      assertThat(x.grad().toDoubleArray()).containsExactly(2, 4, 6);
      assertThat(y.item()).isCloseTo(14, within(1e-12));
    }
  }

  @Test
  void generatorMatchesPyTorchSeed0() {
    // torch.randn(3, generator=torch.Generator().manual_seed(0)) = [1.5410, -0.2934, -2.1788]
    try (TorchGenerator g = TorchGenerator.cpu(0);
        Tensor r = Tensor.randn(g, 3)) {
      float[] v = r.toFloatArray();
      assertThat(v[0]).isCloseTo(1.5410f, within(1e-4f));
      assertThat(v[1]).isCloseTo(-0.2934f, within(1e-4f));
      assertThat(v[2]).isCloseTo(-2.1788f, within(1e-4f));
    }
  }

  @Test
  void boolDataMustBeZeroOrOne() {
    try (Tensor ok = Tensor.of(new byte[] {0, 1, 1}, DType.BOOL);
        Tensor sum = ok.sum()) {
      assertThat(sum.itemLong()).isEqualTo(2);
    }
    assertThatThrownBy(() -> Tensor.of(new byte[] {0, 2}, DType.BOOL))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bool data must be 0 or 1, got 2 at index 1");
  }
}
