package dev.rectok.torch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.nn.Parameter;
import dev.rectok.torch.optim.AdamW;
import dev.rectok.torch.optim.ParamGroup;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The core ops, autograd and AdamW on the device named by {@code -Drectok.test.device} (default
 * {@code cpu}; {@code native/cuda-check.sh} runs it with {@code cuda:0}), in float32, against the
 * same computation in float64 on the CPU.
 */
class DeviceTest {
  static final Device DEVICE = Device.parse(System.getProperty("rectok.test.device", "cpu"));

  private static Tensor on(Tensor cpu64) {
    return cpu64.to(DType.FLOAT32, DEVICE);
  }

  private static void assertClose(Tensor onDevice, Tensor reference64, double relTol) {
    try (Scope s = Scope.open()) {
      assertThat(onDevice.device())
          .isEqualTo(DEVICE.isCuda() && DEVICE.index() < 0 ? Device.cuda(0) : DEVICE);
      Tensor back = onDevice.to(DType.FLOAT64, Device.CPU);
      double err = back.sub(reference64).vectorNorm(2, new long[0], false).item();
      double norm = reference64.vectorNorm(2, new long[0], false).item();
      assertThat(err / Math.max(norm, 1e-30)).isLessThan(relTol);
    }
  }

  @Test
  void forwardOpsMatchTheCpuDoubleReference() {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(11)) {
      Tensor x = Tensor.randn(new long[] {2, 4, 16, 32}, g, DType.FLOAT64, Device.CPU);
      Tensor w = Tensor.randn(new long[] {48, 32}, g, DType.FLOAT64, Device.CPU).mul(0.2);
      Tensor img = Tensor.randn(new long[] {2, 3, 17, 19}, g, DType.FLOAT64, Device.CPU);
      Tensor k = Tensor.randn(new long[] {8, 3, 3, 3}, g, DType.FLOAT64, Device.CPU);
      assertClose(on(x).matmul(on(w).transpose(0, 1)), x.matmul(w.transpose(0, 1)), 1e-5);
      assertClose(F.gelu(on(x), false), F.gelu(x, false), 1e-6);
      assertClose(F.softmax(on(x), -1), F.softmax(x, -1), 1e-6);
      assertClose(
          F.layerNorm(on(x), new long[] {32}, null, null, 1e-5),
          F.layerNorm(x, new long[] {32}, null, null, 1e-5),
          1e-5);
      assertClose(
          F.rmsNorm(on(x), new long[] {32}, null, 1e-6),
          F.rmsNorm(x, new long[] {32}, null, 1e-6),
          1e-5);
      long[] one = {1, 1};
      assertClose(
          F.conv2d(on(img), on(k), null, one, one, one, 1),
          F.conv2d(img, k, null, one, one, one, 1),
          1e-5);
      assertClose(
          F.interpolate(on(img), 34, 38, F.Interpolation.BICUBIC, false, false),
          F.interpolate(img, 34, 38, F.Interpolation.BICUBIC, false, false),
          1e-5);
      assertClose(
          F.scaledDotProductAttention(on(x), on(x), on(x), null, 0, false, 0),
          F.attentionMath(x, x, x, null, false, 0),
          1e-5);
      assertClose(on(x).sum(new long[] {1, 3}, true), x.sum(new long[] {1, 3}, true), 1e-6);
    }
  }

  @Test
  void backwardAndAdamWMatchTheCpuDoubleReference() {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(12)) {
      Tensor x = Tensor.randn(new long[] {8, 16}, g, DType.FLOAT64, Device.CPU);
      Tensor w0 = Tensor.randn(new long[] {4, 16}, g, DType.FLOAT64, Device.CPU);
      Parameter ref = new Parameter(w0.clone(), true);
      Parameter dev = new Parameter(w0.to(DType.FLOAT32, DEVICE), true);
      try (ref;
          dev;
          AdamW optRef = new AdamW(List.of(new ParamGroup(List.of(ref), 1e-2, 0.1)));
          AdamW optDev = new AdamW(List.of(new ParamGroup(List.of(dev), 1e-2, 0.1)))) {
        for (int step = 0; step < 3; step++) {
          try (Scope st = Scope.open()) {
            F.linear(x, ref.data(), null).tanh().pow(2).mean().backward();
            F.linear(on(x), dev.data(), null).tanh().pow(2).mean().backward();
            assertClose(dev.grad(), ref.grad(), 1e-5);
            optRef.step();
            optDev.step();
            ref.zeroGrad();
            dev.zeroGrad();
          }
        }
        assertClose(dev.data(), ref.data(), 1e-5);
      }
    }
  }

  @Test
  void generatorsDrawOnTheDeviceReproducibly() {
    try (Scope s = Scope.open();
        TorchGenerator a = TorchGenerator.create(DEVICE, 5);
        TorchGenerator b = TorchGenerator.create(DEVICE, 5)) {
      Tensor x = Tensor.randn(new long[] {1000}, a, DType.FLOAT32, DEVICE);
      Tensor y = Tensor.randn(new long[] {1000}, b, DType.FLOAT32, DEVICE);
      assertThat(x.equal(y)).isTrue();
      assertThat(Math.abs(x.mean().item())).isLessThan(0.15);
    }
    if (DEVICE.isCuda()) {
      Torch.cudaSynchronize(Math.max(0, DEVICE.index()));
      assertThat(Torch.cudaMemoryStats(Math.max(0, DEVICE.index())).reserved()).isPositive();
      Torch.cudaEmptyCache();
    }
  }
}
