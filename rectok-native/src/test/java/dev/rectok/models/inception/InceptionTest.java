package dev.rectok.models.inception;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.DType;
import dev.rectok.models.inception.InceptionV3.Feature;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.CheckpointFormatException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The TF1 resize's laws, weight files (save, load, refusals) and the network's input checks. */
class InceptionTest {
  @Property(tries = 40)
  void resizingToTheSameSizeIsExactAndConstantsStayConstant(
      @ForAll @IntRange(min = 1, max = 40) int h,
      @ForAll @IntRange(min = 1, max = 40) int w,
      @ForAll @IntRange(min = 1, max = 80) int oh,
      @ForAll @IntRange(min = 1, max = 80) int ow,
      @ForAll @IntRange(min = 0, max = 255) int value) {
    byte[] px = new byte[h * w];
    Random r = new Random(h * 131L + w);
    r.nextBytes(px);
    float[] same = Tf1Resize.resize32(px, 1, h, w, h, w);
    for (int i = 0; i < px.length; i++) {
      assertThat(same[i]).isEqualTo(px[i] & 0xff);
    }
    byte[] flat = new byte[h * w];
    java.util.Arrays.fill(flat, (byte) value);
    for (float v : Tf1Resize.resize32(flat, 1, h, w, oh, ow)) {
      assertThat(v).isEqualTo((float) value);
    }
    double[] d = Tf1Resize.resize64(px, 1, h, w, oh, ow);
    float[] f = Tf1Resize.resize32(px, 1, h, w, oh, ow);
    for (int i = 0; i < d.length; i++) {
      assertThat(Math.abs(d[i] - f[i])).isLessThan(1e-3);
      assertThat(d[i]).isBetween(0.0, 255.0);
    }
  }

  @Test
  void aMissingWeightFileNamesBothReleasesAndWhereTheyArePublished(@TempDir Path tmp) {
    Path absent = tmp.resolve("inception.pth");
    assertThatThrownBy(() -> InceptionWeights.load(absent))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining(InceptionWeights.TORCH_FIDELITY_FILE)
        .hasMessageContaining(InceptionWeights.PYTORCH_FID_FILE)
        .hasMessageContaining("github.com");
  }

  @Test
  void savedWeightsLoadBackEqualAndForeignFilesAreRefused(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("inception.safetensors");
    try (InceptionV3 a = InceptionWeights.fromRecipe(3)) {
      InceptionWeights.save(a, f, Map.of());
      try (InceptionV3 b = InceptionWeights.load(f);
          Scope s = Scope.open()) {
        Map<String, Tensor> sa = a.stateDict();
        b.stateDict()
            .forEach(
                (k, v) -> {
                  if (!k.endsWith("num_batches_tracked")) {
                    assertThat(v.equal(sa.get(k))).as(k).isTrue();
                  }
                });
        byte[] px = new byte[3 * 20 * 30];
        new Random(5).nextBytes(px);
        Tensor img = Tensor.of(px, DType.UINT8, 1, 3, 20, 30);
        Tensor fa = a.features(img, EnumSet.of(Feature.F64)).get(Feature.F64);
        Tensor fb = b.features(img, EnumSet.of(Feature.F64)).get(Feature.F64);
        assertThat(fa.shape()).containsExactly(1, 64);
        assertThat(fa.equal(fb)).isTrue();
      }
    }
    Path other = Files.copy(tmp.resolve("inception.safetensors"), tmp.resolve("x.safetensors"));
    try (var st = dev.rectok.torch.io.SafeTensors.open(other)) {
      var m = new java.util.LinkedHashMap<>(st.all());
      m.remove("fc.bias");
      dev.rectok.torch.io.SafeTensors.write(tmp.resolve("y.safetensors"), m, Map.of());
    }
    assertThatThrownBy(() -> InceptionWeights.load(tmp.resolve("y.safetensors")))
        .isInstanceOf(CheckpointFormatException.class)
        .hasMessageContaining("fc.bias");
  }

  @Test
  void theNetworkTakesUint8ImagesWithThreeChannelsOnly() {
    try (InceptionV3 net = new InceptionV3();
        Scope s = Scope.open()) {
      assertThatThrownBy(() -> net.features(Tensor.zeros(1, 3, 8, 8), EnumSet.of(Feature.F64)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("uint8");
      assertThatThrownBy(
              () ->
                  net.features(
                      Tensor.zeros(new long[] {1, 1, 8, 8}, DType.UINT8, dev.rectok.api.Device.CPU),
                      EnumSet.of(Feature.F64)))
          .hasMessageContaining("(N, 3, H, W)");
      assertThatThrownBy(() -> net.to(DType.BFLOAT16, dev.rectok.api.Device.CPU))
          .hasMessageContaining("float32 or float64");
      assertThatThrownBy(() -> Feature.of("4096")).hasMessageContaining("logits_unbiased");
    }
  }
}
