package dev.rectok.train.loss;

import static dev.rectok.train.loss.LossTestSupport.assertUsefulGrad;
import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.image.PixelRange;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.Parameter;
import org.junit.jupiter.api.Test;

class PerceptualLossTest {

  @Test
  void weightedMixOfLpipsAndConvNextWithGradientToPrediction() {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(11);
        PerceptualLoss p =
            new PerceptualLoss(
                new LPIPS(),
                new ConvNeXtLogitLoss(new ConvNeXt(new int[] {1, 1}, new long[] {8, 16}, 10), 32),
                1.0,
                0.1)) {
      Tensor pred = Tensor.rand(g, 2, 3, 32, 32).requiresGrad_(true);
      Tensor target = Tensor.rand(g, 2, 3, 32, 32);
      Tensor l = p.forward(pred, target);
      double expected;
      try (GradMode ng = GradMode.noGrad()) {
        LPIPS lp = (LPIPS) p.children().get("lpips");
        ConvNeXtLogitLoss cn = (ConvNeXtLogitLoss) p.children().get("convnext");
        expected =
            (lp.loss(PixelRange.toSigned(pred), PixelRange.toSigned(target)).item()
                    + 0.1 * cn.forward(pred, target).item())
                / 1.1;
      }
      assertThat(Math.abs(l.item() - expected)).isLessThan(1e-6);
      assertThat(p.forward(target, target).item()).isZero();
      l.backward();
      assertUsefulGrad(pred.grad());
      for (Parameter q : p.parameters()) {
        assertThat(q.grad()).isNull();
      }
    }
  }

  @Test
  void missingTermsAreOff() {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(12);
        PerceptualLoss none = new PerceptualLoss(null, null, 1.0, 0.1);
        LPIPS lp = new LPIPS()) {
      assertThat(none.isActive()).isFalse();
      Tensor x = Tensor.rand(g, 1, 3, 32, 32);
      Tensor y = Tensor.rand(g, 1, 3, 32, 32);
      assertThat(none.forward(x, y).item()).isZero();
      try (PerceptualLoss onlyLpips = new PerceptualLoss(new LPIPS(), null, 1.0, 0.1)) {
        onlyLpips.loadStateDict(prefixed(lp), true);
        assertThat(onlyLpips.isActive()).isTrue();
        assertThat(onlyLpips.forward(x, y).item())
            .isEqualTo(lp.loss(PixelRange.toSigned(x), PixelRange.toSigned(y)).item());
      }
    }
  }

  private static java.util.Map<String, Tensor> prefixed(LPIPS lp) {
    java.util.Map<String, Tensor> m = new java.util.LinkedHashMap<>();
    lp.stateDict().forEach((k, v) -> m.put("lpips." + k, v));
    return m;
  }
}
