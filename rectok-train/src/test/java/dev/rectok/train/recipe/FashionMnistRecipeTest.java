package dev.rectok.train.recipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.rectok.api.Backends;
import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.api.FlowDistiller;
import dev.rectok.api.FlowDistillerSpec;
import dev.rectok.api.Progress;
import dev.rectok.api.TrainingLimits;
import dev.rectok.api.TrainingReport;
import dev.rectok.generate.DiTGenerator;
import dev.rectok.models.RecTokTokenizer;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.train.TestData;
import dev.rectok.train.data.FashionMnist;
import dev.rectok.train.teacher.TeacherTrainer;
import dev.rectok.train.teacher.VitTeacher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo pipeline end to end at toy size on real Fashion-MNIST images: teacher file -> stage-1
 * tokenizer (through the API's FlowDistiller implementation) -> generator and AutoGuidance
 * companion -> model files the inference API opens -> every demo metric; then stage 2 through
 * {@link Backends#openFlowDistiller} from the stage-1 run.
 */
class FashionMnistRecipeTest {
  @TempDir static Path tmp;
  static Path teacher;
  static final FashionMnistRecipe.Settings TINY =
      FashionMnistRecipe.Settings.defaults().withBudget(256, 2, 1, 1, 4).withTokenChannels(8);

  @BeforeAll
  static void teacher() throws Exception {
    TestData.fashionMnist();
    teacher = tmp.resolve("teacher.safetensors");
    try (VitTeacher t = new VitTeacher(TeacherTrainer.DEFAULT_MODEL, 1)) {
      t.save(teacher); // untrained: the pipeline only needs its feature shape here
    }
  }

  @Test
  void pipelineProducesModelsTheInferenceApiOpensAndMetricsAreComputed() throws Exception {
    Path out = tmp.resolve("models");
    Path work = tmp.resolve("work");
    List<FashionMnistRecipe.Stage> stages =
        FashionMnistRecipe.run(FashionMnist.defaultDir(), out, work, teacher, TINY, Progress.NONE);
    assertThat(stages)
        .extracting(FashionMnistRecipe.Stage::name)
        .containsExactly("tokenizer", "generator", "guide");
    assertThat(stages.get(0).report().stoppedBy())
        .isEqualTo("max-steps"); // 2 epochs of 4 batches of 64
    assertThat(stages.get(1).report().completed()).isTrue(); // 1 epoch = 2 batches of 128
    assertThat(stages)
        .allSatisfy(
            st -> {
              assertThat(st.report().steps()).isBetween(2L, 4L);
              assertThat(st.report().lastMetrics().get("loss")).isFinite().isPositive();
            });
    for (String stage : new String[] {"tokenizer", "generator", "guide"}) {
      try (var files = Files.list(work.resolve(stage).resolve("samples"))) {
        assertThat(files.map(f -> f.getFileName().toString()))
            .as(stage + " sample grid")
            .anyMatch(n -> n.matches("step-[0-9]{7}\\.png"));
      }
    }
    // a rerun finds every model file and trains nothing
    assertThat(
            FashionMnistRecipe.run(
                FashionMnist.defaultDir(), out, work, teacher, TINY, Progress.NONE))
        .isEmpty();

    FashionMnist train = FashionMnist.load(FashionMnist.defaultDir(), true, 200);
    FashionMnist test = FashionMnist.load(FashionMnist.defaultDir(), false, 100);
    try (RecTokTokenizer tok =
            RecTokTokenizer.open(out.resolve(FashionMnistRecipe.TOKENIZER), Device.CPU);
        DiTGenerator gen =
            DiTGenerator.open(
                out.resolve(FashionMnistRecipe.GENERATOR),
                out.resolve(FashionMnistRecipe.GUIDE),
                Device.CPU);
        VitTeacher t = VitTeacher.load(teacher)) {
      assertThat(tok.hasStatistics()).as("exported with latent statistics").isTrue();
      assertThat(tok.latentShape()).containsExactly(8, 4, 4);
      assertThat(gen.latentShape()).containsExactly(8, 4, 4);
      DemoEvaluation.Metrics m =
          DemoEvaluation.evaluate(
              tok,
              gen,
              true,
              t,
              train,
              test,
              new DemoEvaluation.Options(100, 200, 3, 5, 1.5, 0),
              Progress.NONE);
      assertThat(m.psnr()).isFinite().isPositive();
      // 100 test images: accuracies are whole percentages; the latents of even a 2-epoch toy
      // tokenizer carry the class far above chance (0.10)
      assertThat(m.probeAccuracy() * 100)
          .isCloseTo(Math.rint(m.probeAccuracy() * 100), within(1e-9));
      assertThat(m.probeAccuracy()).isGreaterThan(0.4); // measured 0.71 (deterministic run)
      assertThat(m.pixelProbeAccuracy()).isGreaterThan(0.3); // raw pixels are linearly informative
      assertThat(m.fidUnguided()).isFinite().isPositive();
      assertThat(m.fidAutoGuided()).isFinite().isPositive();
      assertThat(m.fidRealVsReal()).isFinite().isLessThan(m.fidUnguided());
      // the (untrained) teacher's accuracy, recomputed here from its logits on the same images
      try (Scope sc = Scope.open()) {
        Tensor x = DemoEvaluation.rgb(test).narrow(0, 0, 100);
        Tensor y = test.labelsTensor().narrow(0, 0, 100);
        double expected = t.logits(x).argmax(1, false).eq(y).to(DType.FLOAT64).mean().item();
        assertThat(m.teacherAccuracy()).isCloseTo(expected, within(1e-12));
      }
    }
  }

  @Test
  void stageTwoFineTunesTheDecoderOfAStageOneRunThroughTheServiceApi() throws Exception {
    Path stage1 = tmp.resolve("s1");
    FashionMnistRecipe.tokenizer(
        FashionMnist.defaultDir(),
        teacher,
        stage1,
        tmp.resolve("s1.safetensors"),
        TINY,
        Progress.NONE);
    FlowDistillerSpec spec =
        FlowDistillerSpec.builder(tmp.resolve("s2"), FashionMnist.defaultDir())
            .stage2(stage1)
            .training("epochs", 2)
            .training("batch_size", 32)
            .training("train_images", 128)
            .training("seed", 3)
            .build();
    try (FlowDistiller d = Backends.openFlowDistiller(spec)) {
      TrainingReport r = d.train(TrainingLimits.none().withMaxSteps(3), Progress.NONE);
      assertThat(r.steps()).isEqualTo(3);
      assertThat(r.lastMetrics()).containsKeys("pixel_mse", "lr").doesNotContainKey("sem_cosine");
      Path file = d.export(tmp.resolve("decft.safetensors"), 64, Progress.NONE);
      try (RecTokTokenizer tok = RecTokTokenizer.open(file, Device.CPU)) {
        assertThat(tok.hasStatistics()).isTrue();
      }
    }
    // a changed config on the same run directory is refused, naming the difference
    FlowDistillerSpec changed =
        FlowDistillerSpec.builder(tmp.resolve("s2"), FashionMnist.defaultDir())
            .stage2(stage1)
            .training("epochs", 3)
            .training("batch_size", 32)
            .training("train_images", 128)
            .training("seed", 3)
            .build();
    assertThatThrownBy(() -> Backends.openFlowDistiller(changed)).hasMessageContaining("epochs");
    assertThat(Files.exists(tmp.resolve("s2").resolve("config.json"))).isTrue();
  }

  @Test
  void perceptualWeightFilesTurnTheLpipsTermOn() throws Exception {
    Path vgg = tmp.resolve("vgg16.safetensors");
    Path lin = tmp.resolve("lpips_lin.safetensors");
    try (dev.rectok.train.loss.LPIPS lp = new dev.rectok.train.loss.LPIPS();
        java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
      java.util.Map<String, dev.rectok.torch.io.HostTensor> trunk = new java.util.LinkedHashMap<>();
      java.util.Map<String, dev.rectok.torch.io.HostTensor> heads = new java.util.LinkedHashMap<>();
      lp.stateDict()
          .forEach(
              (k, v) -> {
                if (k.startsWith("net.")) {
                  trunk.put(
                      k.substring(4), v.contiguous().toHost(arena)); // torchvision's features.N.*
                } else if (k.startsWith("lin")) {
                  heads.put(k, v.contiguous().toHost(arena));
                }
              });
      dev.rectok.torch.io.SafeTensors.write(vgg, trunk, java.util.Map.of());
      dev.rectok.torch.io.SafeTensors.write(lin, heads, java.util.Map.of());
    }
    FlowDistillerSpec.Builder spec =
        FlowDistillerSpec.builder(tmp.resolve("lpips-run"), FashionMnist.defaultDir())
            .teacher(teacher)
            .training("epochs", 1)
            .training("batch_size", 8)
            .training("train_images", 16)
            .training("lpips_vgg_weights", vgg.toString())
            .training("lpips_lin_weights", lin.toString());
    spec.model("img_size", 32)
        .model("patch_size", 8)
        .model("token_channels", 8)
        .model("vit_enc_model_size", "t")
        .model("vit_dec_model_size", "t")
        .model("vit_sem_model_size", "t")
        .model(
            "size_dict_additions",
            java.util.Map.of("t", java.util.Map.of("width", 32, "layers", 1, "heads", 2)));
    try (FlowDistiller d = Backends.openFlowDistiller(spec.build())) {
      TrainingReport r = d.train(TrainingLimits.none().withMaxSteps(1), Progress.NONE);
      // random heads may weigh features negatively; real LPIPS heads are non-negative
      assertThat(r.lastMetrics().get("perceptual")).as("LPIPS term on").isFinite().isNotZero();
    }
    FlowDistillerSpec half =
        FlowDistillerSpec.builder(tmp.resolve("x"), FashionMnist.defaultDir())
            .teacher(teacher)
            .training("lpips_vgg_weights", vgg.toString())
            .build();
    assertThatThrownBy(() -> Backends.openFlowDistiller(half))
        .hasMessageContaining("lpips_lin_weights");
  }
}
