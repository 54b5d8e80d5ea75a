package dev.rectok.models.dinov3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** Laws of RecTok's image path to the teacher (the golden case8 pins the exact values). */
class TeacherImagePathTest {

  @Property(tries = 20)
  void uint8TruncatesAndTheShapesFollowTheTarget(
      @ForAll @IntRange(min = 1, max = 40) int h,
      @ForAll @IntRange(min = 1, max = 40) int w,
      @ForAll @IntRange(min = 1, max = 64) int outH,
      @ForAll @IntRange(min = 1, max = 64) int outW) {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(h * 100L + w)) {
      Tensor x = Tensor.rand(new long[] {2, 3, h, w}, g, DType.FLOAT32, Device.CPU).mul(2).sub(1);
      float[] xs = x.toFloatArray();
      byte[] u = TeacherImagePath.toUint8(x).toByteArray();
      for (int i = 0; i < xs.length; i++) {
        float v = (xs[i] + 1f) / 2f * 255f; // the float32 ops of the reference, then truncation
        assertThat(u[i] & 0xff).isEqualTo((int) v);
      }
      Tensor p = TeacherImagePath.pixelValues(x, outH, outW);
      assertThat(p.shape()).containsExactly(2, 3, outH, outW);
      assertThat(p.dtype()).isEqualTo(DType.FLOAT32);
    }
  }

  @Test
  void atTheProcessorSizeTheUpsampleIsTheIdentity() {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(3)) {
      Tensor x = Tensor.rand(new long[] {1, 3, 50, 70}, g, DType.FLOAT32, Device.CPU).mul(2).sub(1);
      Tensor direct = TeacherImagePath.processor(TeacherImagePath.toUint8(x));
      assertThat(direct.shape()).containsExactly(1, 3, 224, 224);
      assertThat(TeacherImagePath.pixelValues(x, 224, 224).equal(direct)).isTrue();
      // a constant image stays constant: (v/255 - mean)/std per channel
      Tensor white = Tensor.ones(1, 3, 32, 32);
      float[] pv = TeacherImagePath.pixelValues(white, 16, 16).toFloatArray();
      assertThat((double) pv[0])
          .isCloseTo((1 - 0.485) / 0.229, org.assertj.core.data.Offset.offset(1e-5));
    }
    assertThatThrownBy(() -> TeacherImagePath.toUint8(Tensor.zeros(1, 1, 4, 4)))
        .hasMessageContaining("(B, 3, H, W)");
  }
}
