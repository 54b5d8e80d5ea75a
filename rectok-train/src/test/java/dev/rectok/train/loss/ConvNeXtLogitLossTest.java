package dev.rectok.train.loss;

import static dev.rectok.train.loss.LossTestSupport.assertUsefulGrad;
import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.Parameter;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConvNeXtLogitLossTest {

  private static ConvNeXt tiny() {
    return new ConvNeXt(new int[] {1, 2}, new long[] {8, 16}, 10);
  }

  @Test
  void torchvisionKeyLayout() {
    try (ConvNeXt m = tiny()) {
      assertThat(m.stateDict().keySet())
          .containsExactly(
              "features.0.0.weight",
              "features.0.0.bias",
              "features.0.1.weight",
              "features.0.1.bias",
              "features.1.0.layer_scale",
              "features.1.0.block.0.weight",
              "features.1.0.block.0.bias",
              "features.1.0.block.2.weight",
              "features.1.0.block.2.bias",
              "features.1.0.block.3.weight",
              "features.1.0.block.3.bias",
              "features.1.0.block.5.weight",
              "features.1.0.block.5.bias",
              "features.2.0.weight",
              "features.2.0.bias",
              "features.2.1.weight",
              "features.2.1.bias",
              "features.3.0.layer_scale",
              "features.3.0.block.0.weight",
              "features.3.0.block.0.bias",
              "features.3.0.block.2.weight",
              "features.3.0.block.2.bias",
              "features.3.0.block.3.weight",
              "features.3.0.block.3.bias",
              "features.3.0.block.5.weight",
              "features.3.0.block.5.bias",
              "features.3.1.layer_scale",
              "features.3.1.block.0.weight",
              "features.3.1.block.0.bias",
              "features.3.1.block.2.weight",
              "features.3.1.block.2.bias",
              "features.3.1.block.3.weight",
              "features.3.1.block.3.bias",
              "features.3.1.block.5.weight",
              "features.3.1.block.5.bias",
              "classifier.0.weight",
              "classifier.0.bias",
              "classifier.2.weight",
              "classifier.2.bias");
      assertThat(m.stateDict().get("features.1.0.layer_scale").shape()).containsExactly(8, 1, 1);
      assertThat(m.stateDict().get("features.1.0.block.0.weight").shape())
          .containsExactly(8, 1, 7, 7);
    }
  }

  @Test
  void convnextSmallHasTorchvisionParameterCount() {
    try (ConvNeXt m = ConvNeXt.small()) {
      assertThat(m.numParameters(false)).isEqualTo(50_223_688L);
      assertThat(m.stateDict())
          .containsKeys(
              "features.5.26.block.5.weight", "features.7.2.layer_scale", "classifier.2.weight");
      assertThat(m.stateDict().get("classifier.2.weight").shape()).containsExactly(1000, 768);
    }
  }

  @Test
  void shapesGradientToPredictionOnlyAndZeroForIdenticalImages() {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(9);
        ConvNeXtLogitLoss loss = new ConvNeXtLogitLoss(tiny(), 32)) {
      Tensor pred = Tensor.rand(g, 2, 3, 16, 16).requiresGrad_(true); // resized to 32
      Tensor target = Tensor.rand(g, 2, 3, 16, 16);
      assertThat(loss.logits(target).shape()).containsExactly(2, 10);
      Tensor l = loss.forward(pred, target);
      assertThat(l.dim()).isZero();
      assertThat(l.item()).isPositive();
      Tensor direct = loss.logits(pred.detach()).sub(loss.logits(target)).pow(2).mean();
      assertThat(Math.abs(l.item() - direct.item())).isLessThan(1e-6);
      assertThat(loss.forward(target, target).item()).isZero();
      l.backward();
      assertUsefulGrad(pred.grad());
      for (Parameter p : loss.parameters()) {
        assertThat(p.grad()).isNull();
        assertThat(p.requiresGrad()).isFalse();
      }
      loss.train(true);
      assertThat(loss.isTraining()).isFalse();
    }
  }

  @Test
  void loadsTorchvisionKeysFromSafetensors(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("convnext.safetensors");
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(10);
        ConvNeXt a = tiny();
        ConvNeXt b = tiny()) {
      a.eval();
      b.eval();
      try (var ng = dev.rectok.torch.GradMode.noGrad()) {
        a.stateDict()
            .forEach(
                (k, v) -> {
                  if (k.endsWith("layer_scale")) {
                    v.uniform_(0.5, 1.0, g); // make the blocks matter
                  }
                });
      }
      LossTestSupport.write(file, a.stateDict(), k -> k);
      Tensor x = Tensor.rand(g, 2, 3, 32, 32);
      assertThat(b.forward(x).equal(a.forward(x))).isFalse();
      b.load(file);
      assertThat(b.forward(x).equal(a.forward(x))).isTrue();
    }
  }
}
