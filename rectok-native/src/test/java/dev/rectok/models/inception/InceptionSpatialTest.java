package dev.rectok.models.inception;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.api.DType;
import dev.rectok.models.inception.InceptionV3.Feature;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.util.EnumSet;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The sFID feature is TF's {@code mixed_6/conv}: Mixed_6d's {@code branch1x1} after BatchNorm and
 * ReLU, first 7 channels, flattened as (H, W, C); asking for it changes no other output.
 */
class InceptionSpatialTest {
  private static Tensor images(int seed) {
    byte[] px = new byte[2 * 3 * 40 * 36];
    new Random(seed).nextBytes(px);
    return Tensor.of(px, DType.UINT8, 2, 3, 40, 36);
  }

  @Test
  void otherFeaturesAreUnchangedWhenTheSpatialOneIsRequested() {
    try (InceptionV3 net = InceptionWeights.fromRecipe(11);
        Scope s = Scope.open()) {
      Tensor img = images(1);
      Map<Feature, Tensor> plain =
          net.features(img, EnumSet.of(Feature.F768, Feature.F2048, Feature.LOGITS));
      Map<Feature, Tensor> with = net.features(img, EnumSet.allOf(Feature.class));
      for (Feature f : plain.keySet()) {
        assertThat(with.get(f).equal(plain.get(f))).as(f.key()).isTrue();
      }
      Tensor sp = with.get(Feature.SPATIAL);
      assertThat(sp.shape()).containsExactly(2, 2023);
      assertThat(Feature.SPATIAL.dim()).isEqualTo(7 * 17 * 17);
      assertThat(Feature.of("mixed_6/conv")).isEqualTo(Feature.SPATIAL);
      // after the ReLU: never negative
      assertThat(sp.min().item()).isGreaterThanOrEqualTo(0.0);
    }
  }

  /**
   * With Mixed_6d.branch1x1's BatchNorm scale set to 0 and its shift to {@code 1000 + c} (channel
   * 0: −5), the branch's output is that constant at every position, so the feature must read {@code
   * 1000 + c} at index {@code (h·17 + w)·7 + c} and 0 for channel 0 (the ReLU). Any other layer,
   * channel order, flattening order or a pre-ReLU tap fails this.
   */
  @Test
  void itIsMixed6dBranch1x1AfterTheReluInHwcOrder() {
    try (InceptionV3 net = InceptionWeights.fromRecipe(12);
        Scope s = Scope.open()) {
      float[] gamma = new float[192];
      float[] beta = new float[192];
      for (int c = 0; c < 192; c++) {
        beta[c] = c == 0 ? -5f : 1000f + c;
      }
      net.loadStateDict(
          Map.of(
              "Mixed_6d.branch1x1.bn.weight", Tensor.of(gamma, 192),
              "Mixed_6d.branch1x1.bn.bias", Tensor.of(beta, 192)),
          false);
      float[] sp =
          net.features(images(2), EnumSet.of(Feature.SPATIAL)).get(Feature.SPATIAL).toFloatArray();
      assertThat(sp).hasSize(2 * 2023);
      for (int n = 0; n < 2; n++) {
        for (int h = 0; h < 17; h++) {
          for (int w = 0; w < 17; w++) {
            for (int c = 0; c < 7; c++) {
              float v = sp[n * 2023 + (h * 17 + w) * 7 + c];
              assertThat(v).as("n%d h%d w%d c%d", n, h, w, c).isEqualTo(c == 0 ? 0f : 1000f + c);
            }
          }
        }
      }
    }
  }
}
