package dev.rectok.train.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.Device;
import dev.rectok.api.GenerateOptions;
import dev.rectok.api.Latents;
import dev.rectok.api.Progress;
import dev.rectok.generate.DiTGenerator;
import dev.rectok.generate.transport.Guidance;
import dev.rectok.generate.transport.Sampler;
import dev.rectok.models.ModelFile;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.SafeTensorsFile;
import dev.rectok.train.generator.TinyGen.FixedLatents;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exported EMA network is a generator model file that {@link DiTGenerator} opens and samples.
 */
class GeneratorExportTest {
  private static final int N = 16;

  private static void train(GeneratorTrainer t, int steps) {
    for (int k = 0; k < steps; k++) {
      try (Scope s = Scope.open()) {
        t.step(TinyGen.batch(k, 8, N), 0);
      }
    }
  }

  @Test
  void exportedEmaOpensInDiTGeneratorAndSamplesLikeTheEma(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("gen.safetensors");
    long[] labels = {0, 3, 9};
    int points = 6;
    try (FixedLatents data = new FixedLatents(N, 1);
        GeneratorTrainer t =
            new GeneratorTrainer(TinyGen.config().emaDecay(0.5).build(), data, Device.CPU)) {
      train(t, 4);
      t.exportModel(file);

      // the file describes itself and holds the EMA weights bit for bit
      try (SafeTensorsFile f = ModelFile.open(file);
          Scope s = Scope.open()) {
        ModelFile.Header h = ModelFile.header(f);
        assertThat(h.kind()).isEqualTo("generator");
        assertThat(h.generatorConfig()).isEqualTo(t.config().model());
        Map<String, Tensor> ema = t.emaModel().stateDict();
        assertThat(f.names()).containsExactlyInAnyOrderElementsOf(ema.keySet());
        for (var e : ema.entrySet()) {
          HostTensor stored = f.get(e.getKey());
          assertThat(Tensor.fromHost(stored).equal(e.getValue())).as(e.getKey()).isTrue();
        }
      }

      // sampling through DiTGenerator equals sampling the trainer's EMA network directly
      float[] direct;
      try (Scope s = Scope.open();
          GradMode g = GradMode.noGrad();
          TorchGenerator gen = TorchGenerator.cpu(42)) {
        Sampler sampler =
            Sampler.of(Sampler.Method.EULER, points, t.config().model().timeDistShift());
        Tensor noise = Sampler.initialNoise(gen, Device.CPU, labels.length, 8, 8, 8);
        direct =
            sampler
                .sample(t.emaModel()::forward, Guidance.none(), noise, Tensor.of(labels))
                .toFloatArray();
      }
      try (DiTGenerator gen = DiTGenerator.open(file, null, Device.CPU)) {
        assertThat(gen.latentShape()).containsExactly(8, 8, 8);
        assertThat(gen.numClasses()).isEqualTo(10);
        Latents out =
            gen.sample(
                labels, 42, GenerateOptions.builder().gridPoints(points).build(), Progress.NONE);
        assertThat(out.values()).containsExactly(direct);
        // CFG works too: the exported label table has the null class
        Latents cfg =
            gen.sample(
                labels,
                42,
                GenerateOptions.builder()
                    .gridPoints(points)
                    .guidance(GenerateOptions.GuidanceKind.CFG, 1.5)
                    .build(),
                Progress.NONE);
        assertFinite(cfg.values());
      }
    }
  }

  /**
   * The AutoGuidance companion is just a second trainer with a smaller model
   * (docs/training.md#generator-recipe: DiT^DH-S next to DiT^DH-XL, 30 epochs, same pipeline); both
   * files open together.
   */
  @Test
  void autoGuidanceCompanionIsASecondSmallerTrainer(@TempDir Path dir) throws Exception {
    Path main = dir.resolve("main.safetensors");
    Path guide = dir.resolve("guide.safetensors");
    try (FixedLatents data = new FixedLatents(N, 1)) {
      GeneratorTrainingConfig mainCfg = TinyGen.config().build();
      GeneratorTrainingConfig guideCfg =
          GeneratorTrainingConfig.builder(TinyGen.guideDit())
              .lr(1e-3)
              .minLr(1e-4)
              .schedule(2, 10)
              .batchSize(8)
              .epochs(3)
              .seed(7)
              .build();
      assertThat(guideCfg.model().numParameters(true))
          .isLessThan(mainCfg.model().numParameters(true));
      try (GeneratorTrainer m = new GeneratorTrainer(mainCfg, data, Device.CPU);
          GeneratorTrainer g = new GeneratorTrainer(guideCfg, data, Device.CPU)) {
        train(m, 2);
        train(g, 2);
        m.exportModel(main);
        g.exportModel(guide);
      }
    }
    try (DiTGenerator gen = DiTGenerator.open(main, guide, Device.CPU)) {
      Latents out =
          gen.sample(
              new long[] {1, 2},
              5,
              GenerateOptions.builder().gridPoints(4).autoGuidance().build(),
              Progress.NONE);
      assertThat(out.values()).hasSize(2 * 8 * 8 * 8);
      assertFinite(out.values());
    }
  }

  private static void assertFinite(float[] v) {
    for (float f : v) {
      assertThat(f).isFinite();
    }
  }

  @Test
  void exportNeedsASafetensorsName(@TempDir Path dir) {
    try (FixedLatents data = new FixedLatents(N, 1);
        GeneratorTrainer t = new GeneratorTrainer(TinyGen.config().build(), data, Device.CPU)) {
      assertThatThrownBy(() -> t.exportModel(dir.resolve("gen.pth")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(".safetensors");
    }
  }
}
