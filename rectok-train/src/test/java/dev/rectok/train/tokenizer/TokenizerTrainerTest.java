package dev.rectok.train.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.Device;
import dev.rectok.models.ModelFile;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.SafeTensorsFile;
import dev.rectok.torch.nn.Module;
import dev.rectok.train.loop.Batch;
import dev.rectok.train.loss.ModuleTeacher;
import dev.rectok.train.run.TrainingCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tokenizer trainer on a tiny model: gradient flow per stage, determinism, resume, export. */
class TokenizerTrainerTest {

  @TempDir Path tmp;

  /** Names of parameters whose gradient is missing, non-finite or all zero. */
  private static List<String> badGradients(Module m) {
    List<String> bad = new ArrayList<>();
    m.namedParameters()
        .forEach(
            (name, p) -> {
              try (Scope s = Scope.open()) {
                Tensor g = p.grad();
                if (g == null) {
                  bad.add(name + " (none)");
                } else if (!g.isfinite()
                    .logicalNot()
                    .sum()
                    .equal(Tensor.scalar(0).to(dev.rectok.api.DType.INT64))) {
                  bad.add(name + " (non-finite)");
                } else if (g.abs().sum().item() == 0) {
                  bad.add(name + " (zero)");
                }
              }
            });
    return bad;
  }

  @Test
  void stage1StepGivesEveryTrainableParameterAGradientWithTheGanActive() {
    try (ModuleTeacher teacher = TinyTokenizer.teacher(3);
        TokenizerTrainer t =
            TokenizerTrainer.stage1(
                TinyTokenizer.stage1().build(),
                TinyTokenizer.modelConfig(),
                teacher,
                null,
                Device.CPU);
        Scope s = Scope.open()) {
      Map<String, Double> m = t.step(TinyTokenizer.batch(TinyTokenizer.images(4, 1)), 0.5);
      assertThat(m)
          .containsKeys(
              "loss",
              "pixel_mse",
              "kl",
              "kl_weighted",
              "sem_cosine",
              "sem_weighted",
              "gan_generator",
              "lr",
              "grad_norm",
              "mask_ratio",
              "disc_loss",
              "disc_grad_norm");
      assertThat(m.get("mask_ratio")).isEqualTo(0.25);
      assertThat(m.get("lr"))
          .isEqualTo(
              1e-3 * 0.5 * (1 + Math.cos(Math.PI * 0.05)),
              org.assertj.core.data.Offset.offset(1e-15));
      double expected =
          m.get("pixel_mse")
              + m.get("kl_weighted")
              + m.get("sem_weighted")
              + 0.1 * m.get("gan_generator");
      assertThat(m.get("loss")).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5));
      assertThat(t.model().semanticDecoder()).isNotNull();
      assertThat(badGradients(t.model()))
          .as("tokenizer (encoder, decoder, semantic decoder)")
          .isEmpty();
      // The last conv's bias: d(hinge)/db = 0.5·(−#real-in-margin + #fake-in-margin)/n cancels
      // exactly while
      // every logit lies in (−1, 1), as at initialisation. It must still have a finite gradient.
      String lastBias = "main." + (t.discriminator().main().size() - 1) + ".bias";
      assertThat(badGradients(t.discriminator()))
          .as("discriminator")
          .isSubsetOf(List.of(lastBias + " (zero)"));
    }
  }

  @Test
  void beforeTheStartEpochTheDiscriminatorIsIdle() {
    try (ModuleTeacher teacher = TinyTokenizer.teacher(3);
        TokenizerTrainer t =
            TokenizerTrainer.stage1(
                TinyTokenizer.stage1().discriminatorStartEpoch(2).build(),
                TinyTokenizer.modelConfig(),
                teacher,
                null,
                Device.CPU);
        Scope s = Scope.open()) {
      Map<String, Double> m = t.step(TinyTokenizer.batch(TinyTokenizer.images(4, 1)), 1.99);
      assertThat(m).doesNotContainKeys("gan_generator", "disc_loss");
      t.discriminator().parameters().forEach(p -> assertThat(p.grad()).isNull());
      assertThat(t.step(TinyTokenizer.batch(TinyTokenizer.images(4, 2)), 2.0))
          .containsKeys("gan_generator", "disc_loss");
    }
  }

  @Test
  void stage2TrainsOnlyTheDecoderAndCopiesTheFrozenEncoderIntoTheEma() {
    try (ModuleTeacher teacher = TinyTokenizer.teacher(3);
        TokenizerTrainer s1 =
            TokenizerTrainer.stage1(
                TinyTokenizer.stage1().build(),
                TinyTokenizer.modelConfig(),
                teacher,
                null,
                Device.CPU);
        Scope s = Scope.open()) {
      s1.step(TinyTokenizer.batch(TinyTokenizer.images(4, 1)), 0.0);
      TokenizerTrainingConfig cfg2 =
          TokenizerTrainingConfig.stage2()
              .epochs(10)
              .batchSize(4)
              .lr(1e-3)
              .discriminatorNdf(8)
              .seed(9)
              .build();
      try (TokenizerTrainer t =
          TokenizerTrainer.decoderFineTuning(
              cfg2, TinyTokenizer.modelConfig(), s1.model(), s1.emaModel(), null, Device.CPU)) {
        assertThat(t.model().semanticDecoder()).isNull();
        Tensor emaDecoderBefore = t.emaModel().decoderModule().parameters().get(0).data().clone();
        assertThat(emaDecoderBefore.equal(s1.emaModel().decoderModule().parameters().get(0).data()))
            .isTrue();
        Map<String, Double> m = t.step(TinyTokenizer.batch(TinyTokenizer.images(4, 2)), 0.0);
        assertThat(m).containsKeys("gan_generator", "disc_loss").doesNotContainKeys("sem_cosine");
        assertThat(m.get("mask_ratio")).isZero();
        List<String> withGrad = new ArrayList<>();
        t.model()
            .namedParameters()
            .forEach(
                (name, p) -> {
                  if (p.grad() != null) {
                    withGrad.add(name);
                  }
                });
        // decoder.mask_token is unused without masking: no gradient, as in the reference
        List<String> decoder =
            t.model().namedParameters().keySet().stream()
                .filter(n -> n.startsWith("decoder.") && !n.equals("decoder.mask_token"))
                .toList();
        assertThat(withGrad).containsExactlyInAnyOrderElementsOf(decoder);
        assertThat(badGradients(t.model().decoderModule())).containsExactly("mask_token (none)");
        // the EMA encoder is the live (stage-1 non-EMA) encoder; the EMA decoder moved from the
        // stage-1 EMA
        t.model()
            .encoder()
            .stateDict()
            .forEach(
                (k, v) ->
                    assertThat(t.emaModel().encoder().stateDict().get(k).equal(v)).as(k).isTrue());
        assertThat(
                t.emaModel()
                    .encoder()
                    .stateDict()
                    .get("latent_head.weight")
                    .equal(s1.model().encoder().stateDict().get("latent_head.weight")))
            .isTrue();
        assertThat(t.emaModel().decoderModule().parameters().get(0).data().equal(emaDecoderBefore))
            .isFalse();
      }
    }
  }

  private static List<Tensor> params(TokenizerTrainer t) {
    List<Tensor> out = new ArrayList<>();
    for (Module m : new Module[] {t.model(), t.emaModel(), t.discriminator()}) {
      m.stateDict().values().forEach(v -> out.add(v.clone()));
    }
    return out;
  }

  private static List<Tensor> threeSteps(TokenizerTrainer t, Tensor images) {
    for (int i = 0; i < 3; i++) {
      t.step(TinyTokenizer.batch(images), i * 0.3);
    }
    return params(t);
  }

  @Test
  void sameSeedGivesBitIdenticalParametersAfterThreeSteps() {
    TokenizerTrainingConfig cfg = TinyTokenizer.stage1().maskRatioMin(-0.1).maskRatio(0.4).build();
    try (ModuleTeacher teacher = TinyTokenizer.teacher(3);
        Scope s = Scope.open()) {
      Tensor images = TinyTokenizer.images(4, 1);
      List<Tensor> a;
      List<Tensor> b;
      List<Tensor> c;
      try (TokenizerTrainer t =
          TokenizerTrainer.stage1(cfg, TinyTokenizer.modelConfig(), teacher, null, Device.CPU)) {
        a = threeSteps(t, images);
      }
      try (TokenizerTrainer t =
          TokenizerTrainer.stage1(cfg, TinyTokenizer.modelConfig(), teacher, null, Device.CPU)) {
        b = threeSteps(t, images);
      }
      try (TokenizerTrainer t =
          TokenizerTrainer.stage1(
              cfg.toBuilder().seed(8).build(),
              TinyTokenizer.modelConfig(),
              teacher,
              null,
              Device.CPU)) {
        c = threeSteps(t, images);
      }
      for (int i = 0; i < a.size(); i++) {
        assertThat(a.get(i).equal(b.get(i))).as("tensor %d", i).isTrue();
      }
      assertThat(a.get(0).equal(c.get(0))).as("another seed differs").isFalse();
    }
  }

  @Test
  void resumingFromACheckpointContinuesBitIdentically() throws IOException {
    TokenizerTrainingConfig cfg = TinyTokenizer.stage1().maskRatioMin(-0.1).maskRatio(0.4).build();
    Path file = tmp.resolve("ckpt.safetensors");
    try (ModuleTeacher teacher = TinyTokenizer.teacher(3);
        Scope s = Scope.open()) {
      Tensor images = TinyTokenizer.images(4, 1);
      List<Tensor> straight;
      try (TokenizerTrainer t =
          TokenizerTrainer.stage1(cfg, TinyTokenizer.modelConfig(), teacher, null, Device.CPU)) {
        TrainingCheckpoint ck = new TrainingCheckpoint();
        t.register(ck);
        t.step(TinyTokenizer.batch(images), 0.0);
        t.step(TinyTokenizer.batch(images), 0.3);
        ck.write(file, new TrainingCheckpoint.Counters(2, 0));
        t.step(TinyTokenizer.batch(images), 0.6);
        straight = params(t);
      }
      try (TokenizerTrainer t =
          TokenizerTrainer.stage1(
              cfg.toBuilder().seed(99).build(),
              TinyTokenizer.modelConfig(),
              teacher,
              null,
              Device.CPU)) {
        TrainingCheckpoint ck = new TrainingCheckpoint();
        t.register(ck);
        assertThat(ck.read(file).step()).isEqualTo(2);
        t.step(TinyTokenizer.batch(images), 0.6);
        List<Tensor> resumed = params(t);
        for (int i = 0; i < straight.size(); i++) {
          assertThat(resumed.get(i).equal(straight.get(i))).as("tensor %d", i).isTrue();
        }
      }
    }
  }

  @Test
  void exportWritesTheEmaTokenizerWithoutTheSemanticDecoder() throws IOException {
    Path file = tmp.resolve("tok.safetensors");
    try (ModuleTeacher teacher = TinyTokenizer.teacher(3);
        TokenizerTrainer t =
            TokenizerTrainer.stage1(
                TinyTokenizer.stage1().build(),
                TinyTokenizer.modelConfig(),
                teacher,
                null,
                Device.CPU);
        Scope s = Scope.open()) {
      t.step(TinyTokenizer.batch(TinyTokenizer.images(4, 1)), 0.0);
      float[] mean = new float[8];
      float[] std = new float[8];
      java.util.Arrays.fill(std, 2f);
      t.exportModel(file, mean, std);
      assertThatThrownBy(
              () -> t.exportModel(tmp.resolve("bad.safetensors"), new float[3], new float[3]))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("channels");
      try (SafeTensorsFile f = ModelFile.open(file)) {
        ModelFile.Header h = ModelFile.header(f);
        assertThat(h.kind()).isEqualTo("tokenizer");
        assertThat(h.latentStd()).containsExactly(std);
        assertThat(f.names())
            .noneMatch(n -> n.startsWith("sem_decoders."))
            .contains("encoder.latent_head.weight");
        try (RecTok loaded = new RecTok(h.tokenizerConfig())) {
          assertThat(loaded.semanticDecoder()).isNull();
          assertThat(loaded.config().seqLen()).isEqualTo(64);
          assertThat(loaded.loadHostStateDict(f.all(), true).isClean()).isTrue();
          loaded
              .stateDict()
              .forEach(
                  (k, v) -> assertThat(v.equal(t.emaModel().stateDict().get(k))).as(k).isTrue());
          assertThat(
                  loaded
                      .stateDict()
                      .get("decoder.conv_out.weight")
                      .equal(t.model().stateDict().get("decoder.conv_out.weight")))
              .as("EMA, not the live model")
              .isFalse();
        }
      }
    }
    assertThat(Files.size(file)).isPositive();
  }

  @Test
  void stepsDoNotAccumulateTensorsAndCloseFreesEverything() {
    long before = Tensor.liveHandles();
    try (ModuleTeacher teacher = TinyTokenizer.teacher(3);
        Scope s = Scope.open()) {
      Batch batch = TinyTokenizer.batch(TinyTokenizer.images(4, 1));
      try (TokenizerTrainer t =
          TokenizerTrainer.stage1(
              TinyTokenizer.stage1().build(),
              TinyTokenizer.modelConfig(),
              teacher,
              null,
              Device.CPU)) {
        t.step(batch, 0.0);
        long afterOne = Tensor.liveHandles(); // parameters, optimizer state, gradients
        t.step(batch, 0.5);
        t.step(batch, 0.7);
        assertThat(Tensor.liveHandles()).as("steps do not accumulate tensors").isEqualTo(afterOne);
      }
    }
    assertThat(Tensor.liveHandles()).isEqualTo(before);
  }

  @Test
  void rejectsMisuse() {
    try (ModuleTeacher teacher = TinyTokenizer.teacher(3)) {
      assertThatThrownBy(
              () ->
                  TokenizerTrainer.stage1(
                      TokenizerTrainingConfig.stage2().build(),
                      TinyTokenizer.modelConfig(),
                      teacher,
                      null,
                      Device.CPU))
          .hasMessageContaining("stage-1 config");
      assertThatThrownBy(
              () ->
                  TokenizerTrainer.stage1(
                      TinyTokenizer.stage1().build(),
                      TinyTokenizer.modelConfig(),
                      null,
                      null,
                      Device.CPU))
          .hasMessageContaining("feature teacher");
      assertThatThrownBy(
              () ->
                  TokenizerTrainer.stage1(
                      TinyTokenizer.stage1().build(),
                      TinyTokenizer.modelConfig().toBuilder().foundationModelType("").build(),
                      teacher,
                      null,
                      Device.CPU))
          .hasMessageContaining("semantic decoder");
    }
  }
}
