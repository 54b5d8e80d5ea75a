package dev.rectok.train.loss;

import static dev.rectok.train.loss.LossTestSupport.assertUsefulGrad;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.Parameter;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PatchGanTest {

  @Test
  void tamingLayoutShapesAndInit() {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(3);
        PatchGanDiscriminator d = new PatchGanDiscriminator(g)) {
      assertThat(d.stateDict().keySet())
          .containsExactly(
              "main.0.weight",
              "main.0.bias",
              "main.2.weight",
              "main.3.weight",
              "main.3.bias",
              "main.3.running_mean",
              "main.3.running_var",
              "main.3.num_batches_tracked",
              "main.5.weight",
              "main.6.weight",
              "main.6.bias",
              "main.6.running_mean",
              "main.6.running_var",
              "main.6.num_batches_tracked",
              "main.8.weight",
              "main.9.weight",
              "main.9.bias",
              "main.9.running_mean",
              "main.9.running_var",
              "main.9.num_batches_tracked",
              "main.11.weight",
              "main.11.bias");
      assertThat(d.stateDict().get("main.8.weight").shape()).containsExactly(512, 256, 4, 4);
      assertThat(d.stateDict().get("main.11.weight").shape()).containsExactly(1, 512, 4, 4);
      // 3·64·16+64 + 64·128·16 + 128·256·16 + 256·512·16 + 512·16+1 + 2·(128+256+512)
      assertThat(d.numParameters(true)).isEqualTo(2_765_633L);
      Tensor w = d.stateDict().get("main.8.weight");
      assertThat(w.mean().item()).isCloseTo(0.0, within(1e-3));
      assertThat(w.var(new long[] {0, 1, 2, 3}, 1, false).sqrt().item())
          .isCloseTo(0.02, within(3e-4));
      Tensor bn = d.stateDict().get("main.9.weight");
      assertThat(bn.mean().item()).isCloseTo(1.0, within(5e-3));
      assertThat(bn.var(new long[] {0}, 1, false).sqrt().item()).isCloseTo(0.02, within(3e-3));
      assertThat(d.stateDict().get("main.9.bias").abs().max().item()).isZero();
      assertThat(d.isTraining()).isTrue();
      assertThat(d.forward(Tensor.rand(g, 2, 3, 32, 32)).shape()).containsExactly(2, 1, 2, 2);
    }
  }

  @Test
  void trainModeUpdatesBatchNormRunningStatistics() {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(4);
        PatchGanDiscriminator d = new PatchGanDiscriminator(3, 8, 3, g)) {
      Tensor before = d.stateDict().get("main.3.running_mean").clone();
      d.forward(Tensor.rand(g, 2, 3, 32, 32));
      assertThat(d.stateDict().get("main.3.running_mean").sub(before).abs().max().item())
          .isGreaterThan(0.0);
      assertThat(d.stateDict().get("main.9.running_var").sub(1.0).abs().max().item())
          .isGreaterThan(0.0);
      assertThat(d.stateDict().get("main.6.num_batches_tracked").itemLong()).isEqualTo(1);
    }
  }

  @Test
  void hingeLossesGiveGradientsToDiscriminatorAndGenerator() {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(5);
        PatchGanDiscriminator d = new PatchGanDiscriminator(3, 8, 3, g)) {
      Tensor real = Tensor.rand(g, 2, 3, 32, 32);
      Tensor fake = Tensor.rand(g, 2, 3, 32, 32).requiresGrad_(true);
      HingeLoss.discriminator(d.forward(real), d.forward(fake.detach())).backward();
      for (var e : d.namedParameters().entrySet()) {
        if (!e.getKey().equals("main.11.bias")) {
          assertUsefulGrad(e.getValue().grad());
        }
      }
      // near-zero logits keep every hinge term active, so the final bias gets 0.5·(−1 + 1) = 0
      assertThat(d.main().get(11).parameter("bias").grad().item()).isZero();
      assertThat(fake.grad()).isNull();
      d.zeroGrad();
      HingeLoss.generator(d.forward(fake)).backward();
      assertUsefulGrad(fake.grad());
      assertThat(d.main().get(11).parameter("bias").grad().item()).isCloseTo(-1.0, within(1e-6));
    }
  }

  @Test
  void hingeValuesMatchHandComputation() {
    try (Scope s = Scope.open()) {
      Tensor real = Tensor.of(new float[] {0.5f, -1f, 2f}, 3);
      Tensor fake = Tensor.of(new float[] {-2f, 0.3f, 1f}, 3);
      // relu(1 - real) = (0.5, 2, 0) -> 2.5/3; relu(1 + fake) = (0, 1.3, 2) -> 3.3/3; half their
      // sum
      assertThat(HingeLoss.discriminator(real, fake).item()).isCloseTo(5.8 / 6, within(1e-6));
      assertThat(HingeLoss.generator(fake).item()).isCloseTo(0.7 / 3, within(1e-6));
      assertThat(
              HingeLoss.discriminator(
                      Tensor.full(
                          new long[] {4},
                          1.5,
                          dev.rectok.api.DType.FLOAT32,
                          dev.rectok.api.Device.CPU),
                      Tensor.full(
                          new long[] {4},
                          -1.5,
                          dev.rectok.api.DType.FLOAT32,
                          dev.rectok.api.Device.CPU))
                  .item())
          .isZero();
    }
  }

  @Test
  void loadsTamingKeysFromSafetensors(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("disc.safetensors");
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(6);
        PatchGanDiscriminator a = new PatchGanDiscriminator(3, 8, 3, g);
        PatchGanDiscriminator b = new PatchGanDiscriminator(3, 8, 3, g)) {
      a.eval();
      b.eval();
      a.forward(Tensor.rand(g, 2, 3, 32, 32)); // eval: running stats unchanged, still written below
      a.train(true);
      a.forward(Tensor.rand(g, 2, 3, 32, 32)); // non-trivial running statistics
      a.eval();
      LossTestSupport.write(file, a.stateDict(), k -> k);
      Tensor x = Tensor.rand(g, 2, 3, 32, 32);
      assertThat(b.forward(x).equal(a.forward(x))).isFalse();
      b.load(file);
      assertThat(b.forward(x).equal(a.forward(x))).isTrue();
      for (Parameter p : b.parameters()) {
        assertThat(p.requiresGrad()).isTrue();
      }
    }
  }

  @Test
  void loadsTamingKeysFromTorchSaveFilesFlatOrUnderStateDict(@TempDir Path dir) throws IOException {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(13);
        PatchGanDiscriminator a = new PatchGanDiscriminator(3, 8, 3, g)) {
      a.forward(
          Tensor.rand(g, 2, 3, 32, 32)); // non-trivial running statistics, num_batches_tracked 1
      a.eval();
      Tensor x = Tensor.rand(g, 2, 3, 32, 32);
      Tensor expected = a.forward(x);
      for (String nest : new String[] {null, "state_dict"}) {
        Path file = dir.resolve("disc-" + nest + ".pth");
        TinyTorchSave.write(file, a.stateDict(), nest);
        try (PatchGanDiscriminator b = new PatchGanDiscriminator(3, 8, 3, g)) {
          b.load(file).eval();
          assertThat(b.forward(x).equal(expected)).as(String.valueOf(nest)).isTrue();
          assertThat(b.stateDict().get("main.3.num_batches_tracked").itemLong()).isEqualTo(1);
        }
      }
    }
  }
}
