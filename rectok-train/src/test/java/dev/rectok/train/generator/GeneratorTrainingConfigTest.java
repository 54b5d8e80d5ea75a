package dev.rectok.train.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.api.Device;
import dev.rectok.models.ModelFile;
import dev.rectok.models.dit.DiTConfig;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.train.generator.TinyGen.FixedLatents;
import java.nio.file.Path;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Scale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GeneratorTrainingConfigTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void defaultsAreTheReleaseRecipe() {
    GeneratorTrainingConfig c =
        GeneratorTrainingConfig.builder(DiTConfig.preset("DiTDDT_xl")).build();
    assertThat(c.lr()).isEqualTo(2e-4);
    assertThat(c.minLr()).isEqualTo(2e-5);
    assertThat(c.schedConstantEpochs()).isEqualTo(40);
    assertThat(c.schedEndEpoch()).isEqualTo(800);
    assertThat(c.weightDecay()).isZero();
    assertThat(c.gradClip()).isEqualTo(1.0);
    assertThat(c.emaDecay()).isEqualTo(0.9995);
    assertThat(c.labelDropProb()).isEqualTo(0.1).isEqualTo(c.model().labelDropoutProb());
    assertThat(c.epochs()).isEqualTo(800);
    assertThat(c.batchSize()).isEqualTo(64);
    assertThat(c.model().timeDistShift())
        .isCloseTo(Math.sqrt(8), org.assertj.core.data.Offset.offset(1e-12));
    // the AutoGuidance companion: the same recipe, DiT^DH-S, 30 epochs
    GeneratorTrainingConfig s =
        GeneratorTrainingConfig.builder(DiTConfig.preset("DiTDDT_s")).epochs(30).build();
    assertThat(s.model().numParameters(false)).isEqualTo(193_587_924L);
    assertThat(s.toBuilder().epochs(800).build().lr()).isEqualTo(c.lr());
  }

  @Property(tries = 40)
  void jsonRoundTripIsExact(
      @ForAll @DoubleRange(min = 1e-6, max = 1e-2) @Scale(12) double lr,
      @ForAll @DoubleRange(min = 0, max = 1) @Scale(12) double minLrFraction,
      @ForAll @DoubleRange(min = 0, max = 100) double constant,
      @ForAll @DoubleRange(min = 0.5, max = 100) double decay,
      @ForAll @DoubleRange(min = 0, max = 1) @Scale(12) double ema,
      @ForAll @DoubleRange(min = 0, max = 1) double drop,
      @ForAll @IntRange(min = 1, max = 4096) int batch,
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 1000) int epochs)
      throws Exception {
    GeneratorTrainingConfig c =
        GeneratorTrainingConfig.builder(TinyGen.dit())
            .lr(lr)
            .minLr(lr * minLrFraction)
            .schedule(constant, constant + decay)
            .weightDecay(lr)
            .gradClip(0.5 + drop)
            .emaDecay(ema)
            .labelDropProb(drop)
            .batchSize(batch)
            .seed(seed)
            .epochs(epochs)
            .build();
    String text = JSON.writeValueAsString(c.toJson());
    assertThat(GeneratorTrainingConfig.fromJson(JSON.readTree(text))).isEqualTo(c);
  }

  /** The model-file config is the constructor kwargs and reads back to the same architecture. */
  @Test
  void ditKwargsRoundTripForEveryPreset() {
    for (String name : new String[] {"DiTDDT_s", "DiTDDT_b", "DiTDDT_l", "DiTDDT_xl"}) {
      DiTConfig c = DiTConfig.preset(name);
      assertThat(
              DiTConfig.fromConstructorKwargs(ModelFile.configFromGolden(c.toConstructorKwargs())))
          .as(name)
          .isEqualTo(c);
    }
    DiTConfig odd =
        TinyGen.dit().toBuilder()
            .mlpRatio(2.5)
            .useSwiglu(false)
            .usePosEmbed(false)
            .useQknorm(true)
            .numSamplingSteps(7)
            .samplingMethod("heun")
            .build();
    assertThat(DiTConfig.fromConstructorKwargs(odd.toConstructorKwargs())).isEqualTo(odd);
  }

  @Test
  void fromJsonFillsDefaultsAndRejectsTyposAndBadValues() throws Exception {
    ObjectNode min = JSON.createObjectNode();
    min.set("model", GeneratorTrainingConfig.builder(TinyGen.dit()).build().toJson().get("model"));
    assertThat(GeneratorTrainingConfig.fromJson(min))
        .isEqualTo(GeneratorTrainingConfig.builder(TinyGen.dit()).build());
    assertThatThrownBy(
            () -> GeneratorTrainingConfig.fromJson(min.deepCopy().put("learning_rate", 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("learning_rate");
    assertThatThrownBy(
            () -> GeneratorTrainingConfig.fromJson(min.deepCopy().put("batch_size", 2.5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("batch_size");
    assertThatThrownBy(() -> GeneratorTrainingConfig.fromJson(JSON.createObjectNode()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("model");
    var b = GeneratorTrainingConfig.builder(TinyGen.dit());
    assertThatThrownBy(() -> b.lr(0).build()).hasMessageContaining("lr");
    assertThatThrownBy(() -> GeneratorTrainingConfig.builder(TinyGen.dit()).minLr(1).build())
        .hasMessageContaining("min_lr");
    assertThatThrownBy(
            () -> GeneratorTrainingConfig.builder(TinyGen.dit()).schedule(10, 10).build())
        .hasMessageContaining("sched_end_epoch");
    assertThatThrownBy(() -> GeneratorTrainingConfig.builder(TinyGen.dit()).emaDecay(1.5).build())
        .hasMessageContaining("ema_decay");
    assertThatThrownBy(() -> GeneratorTrainingConfig.builder(TinyGen.dit()).batchSize(0).build())
        .hasMessageContaining("batch_size");
    DiTConfig noNull = TinyGen.dit().toBuilder().labelDropoutProb(0).build();
    assertThatThrownBy(() -> GeneratorTrainingConfig.builder(noNull).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("null class");
    assertThat(GeneratorTrainingConfig.builder(noNull).labelDropProb(0).build().labelDropProb())
        .isZero();
  }

  /** A whole session (construct, steps, export, close) frees every native handle it created. */
  @Test
  void aTrainingSessionFreesEverything(@TempDir Path dir) throws Exception {
    long before = Tensor.liveHandles();
    try (FixedLatents data = new FixedLatents(16, 1);
        GeneratorTrainer t = new GeneratorTrainer(TinyGen.config().build(), data, Device.CPU)) {
      for (int k = 0; k < 3; k++) {
        try (Scope s = Scope.open()) {
          t.step(TinyGen.batch(k, 8, 16), k);
        }
      }
      t.exportModel(dir.resolve("g.safetensors"));
    }
    assertThat(Tensor.liveHandles()).isEqualTo(before);
  }
}
