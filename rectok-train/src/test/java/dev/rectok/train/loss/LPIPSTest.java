package dev.rectok.train.loss;

import static dev.rectok.train.loss.LossTestSupport.assertUsefulGrad;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.Parameter;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LPIPSTest {

  private static Tensor images(TorchGenerator g) {
    return Tensor.rand(g, 2, 3, 32, 32).mul(2).sub(1);
  }

  @Test
  void layoutMatchesTorchvisionAndLpips() {
    try (LPIPS l = new LPIPS()) {
      assertThat(l.net().stateDict().keySet())
          .containsExactly(
              "features.0.weight",
              "features.0.bias",
              "features.2.weight",
              "features.2.bias",
              "features.5.weight",
              "features.5.bias",
              "features.7.weight",
              "features.7.bias",
              "features.10.weight",
              "features.10.bias",
              "features.12.weight",
              "features.12.bias",
              "features.14.weight",
              "features.14.bias",
              "features.17.weight",
              "features.17.bias",
              "features.19.weight",
              "features.19.bias",
              "features.21.weight",
              "features.21.bias",
              "features.24.weight",
              "features.24.bias",
              "features.26.weight",
              "features.26.bias",
              "features.28.weight",
              "features.28.bias");
      assertThat(l.net().numParameters(false)).isEqualTo(14_714_688L); // torchvision vgg16.features
      assertThat(l.stateDict()).containsKeys("lin0.model.1.weight", "lin4.model.1.weight");
      assertThat(l.stateDict().get("lin2.model.1.weight").shape()).containsExactly(1, 256, 1, 1);
      assertThat(l.numParameters(true)).isZero();
      assertThat(l.isTraining()).isFalse();
      l.train(true);
      assertThat(l.isTraining()).isFalse();
    }
  }

  @Test
  void shapesZeroOnIdenticalInputsSymmetryAndGradientToInputOnly() {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(1);
        LPIPS l = new LPIPS()) {
      Tensor x = images(g);
      Tensor y = images(g);
      Tensor[] taps = l.net().taps(x);
      long[] side = {32, 16, 8, 4, 2};
      for (int k = 0; k < 5; k++) {
        assertThat(taps[k].shape())
            .containsExactly(2, Vgg16Features.TAP_CHANNELS[k], side[k], side[k]);
      }
      Tensor d = l.forward(x, y);
      assertThat(d.shape()).containsExactly(2, 1, 1, 1);
      assertThat(l.forward(x, x).abs().max().item()).isEqualTo(0.0);
      assertThat(l.forward(y, x).sub(d).abs().max().item()).isLessThan(1e-6);
      assertThat(l.loss(x, y).item()).isCloseTo(d.mean().item(), within(1e-6));

      Tensor xr = x.detach().requiresGrad_(true);
      l.loss(xr, y).backward();
      assertUsefulGrad(xr.grad());
      for (Parameter p : l.parameters()) {
        assertThat(p.grad()).isNull();
      }
    }
  }

  @Test
  void loadsTorchvisionAndLpipsKeysFromSafetensors(@TempDir Path dir) throws IOException {
    Path vgg = dir.resolve("vgg16.safetensors");
    Path lin = dir.resolve("lpips_vgg.safetensors");
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(2);
        LPIPS a = new LPIPS();
        LPIPS b = new LPIPS();
        LPIPS c = new LPIPS()) {
      try (GradMode ng = GradMode.noGrad()) {
        for (int k = 0; k < 5; k++) { // heads are non-negative in the released weights
          a.stateDict().get("lin" + k + ".model.1.weight").uniform_(0, 0.1, g);
        }
      }
      LossTestSupport.write(vgg, a.stateDict(), k -> k.startsWith("net.") ? k.substring(4) : null);
      LossTestSupport.write(lin, a.stateDict(), k -> k.startsWith("lin") ? k : null);
      b.load(vgg, lin);
      Tensor x = images(g);
      Tensor y = images(g);
      assertThat(b.forward(x, y).equal(a.forward(x, y))).isTrue();
      assertThat(c.forward(x, y).equal(a.forward(x, y))).isFalse();
      // one combined file works too
      Path both = dir.resolve("both.safetensors");
      LossTestSupport.write(both, a.stateDict(), k -> k.startsWith("net.") ? k.substring(4) : k);
      c.load(both, both);
      assertThat(c.forward(x, y).equal(a.forward(x, y))).isTrue();
      // torch.save files: torchvision's vgg16 .pth and LPIPS's vgg.pth
      Path vggPth = dir.resolve("vgg16.pth");
      Path linPth = dir.resolve("vgg.pth");
      java.util.Map<String, Tensor> trunk = new java.util.LinkedHashMap<>();
      a.net().stateDict().forEach(trunk::put);
      java.util.Map<String, Tensor> heads = new java.util.LinkedHashMap<>();
      a.stateDict()
          .forEach(
              (k, v) -> {
                if (k.startsWith("lin")) {
                  heads.put(k, v);
                }
              });
      TinyTorchSave.write(vggPth, trunk, null);
      TinyTorchSave.write(linPth, heads, null);
      try (LPIPS d = new LPIPS()) {
        d.load(vggPth, linPth);
        assertThat(d.forward(x, y).equal(a.forward(x, y))).isTrue();
      }
      // the heads file lacks the trunk: clear error
      assertThatThrownBy(() -> c.load(lin, lin))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("net.features.0.weight");
    }
  }
}
