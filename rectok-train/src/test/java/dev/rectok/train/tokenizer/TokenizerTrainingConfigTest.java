package dev.rectok.train.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import dev.rectok.torch.optim.LrSchedule;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Scale;
import org.junit.jupiter.api.Test;

class TokenizerTrainingConfigTest {

  @Test
  void stage1DefaultsAreTheReferencesEffectiveValues() {
    TokenizerTrainingConfig c = TokenizerTrainingConfig.builder().build();
    assertThat(c.stage()).isEqualTo(1);
    assertThat(c.epochs()).isEqualTo(200);
    assertThat(c.batchSize()).isEqualTo(1024);
    assertThat(c.lr()).isEqualTo(4e-4, offset(1e-18)); // blr 1e-4 · 1024 / 256
    assertThat(c.minLr()).isZero();
    assertThat(c.warmupEpochs()).isEqualTo(50);
    assertThat(c.weightDecay()).isEqualTo(1e-4);
    assertThat(c.gradClip()).isEqualTo(3.0);
    assertThat(c.emaDecay()).isEqualTo(0.999);
    assertThat(c.maskRatioMin()).isEqualTo(-0.1);
    assertThat(c.maskRatio()).isEqualTo(0.4);
    assertThat(c.gamma()).isEqualTo(1.0);
    assertThat(c.noiseSchedule()).isEqualTo("shift");
    assertThat(c.klLossWeight()).isEqualTo(1e-6);
    assertThat(c.semLossWeight()).isEqualTo(1.0);
    assertThat(c.perceptualWeight()).isEqualTo(1.0);
    assertThat(c.discriminatorStartEpoch()).isEqualTo(100);
    assertThat(c.discriminatorWeight()).as("the scripts' 0.5 is never forwarded").isEqualTo(0.1);
  }

  @Test
  void stage2PresetIsDecoderFineTuning() {
    TokenizerTrainingConfig c = TokenizerTrainingConfig.stage2().build();
    assertThat(c.stage()).isEqualTo(2);
    assertThat(c.epochs()).isEqualTo(100);
    assertThat(c.lr()).isEqualTo(2e-4, offset(1e-18)); // blr 5e-5 · 1024 / 256
    assertThat(c.warmupEpochs()).isEqualTo(5);
    assertThat(c.maskRatio()).isZero();
    assertThat(c.gamma()).isZero();
    assertThat(c.klLossWeight()).isZero();
    assertThat(c.semLossWeight()).isZero();
    assertThat(c.discriminatorStartEpoch()).isZero();
    assertThat(c.discriminatorWeight()).isEqualTo(0.1);
    assertThat(c.weightDecay()).isEqualTo(1e-4);
    assertThat(c.gradClip()).isEqualTo(3.0);
    assertThat(c.emaDecay()).isEqualTo(0.999);
  }

  @Test
  void blrScalesWithTheBatchUnlessLrIsGiven() {
    assertThat(TokenizerTrainingConfig.builder().batchSize(64).build().lr())
        .isEqualTo(2.5e-5, offset(1e-18));
    assertThat(TokenizerTrainingConfig.builder().batchSize(64).blr(2e-4).build().lr())
        .isEqualTo(5e-5, offset(1e-18));
    assertThat(TokenizerTrainingConfig.builder().batchSize(64).lr(1e-3).build().lr())
        .isEqualTo(1e-3);
    assertThat(TokenizerTrainingConfig.fromJson("{\"batch_size\": 512, \"blr\": 1e-4}").lr())
        .isEqualTo(2e-4, offset(1e-18));
  }

  @Property(tries = 50)
  void jsonRoundTripIsExact(
      @ForAll @IntRange(min = 1, max = 2) int stage,
      @ForAll @IntRange(min = 1, max = 500) int epochs,
      @ForAll @DoubleRange(min = 1e-6, max = 1e-2) @Scale(12) double lr,
      @ForAll @DoubleRange(min = 0, max = 0.99) double warmup,
      @ForAll @IntRange(min = 0, max = 300) int discStart,
      @ForAll long seed) {
    TokenizerTrainingConfig.Builder b =
        stage == 1 ? TokenizerTrainingConfig.builder() : TokenizerTrainingConfig.stage2();
    TokenizerTrainingConfig c =
        b.epochs(epochs)
            .lr(lr)
            .warmupRate(warmup)
            .discriminatorStartEpoch(discStart)
            .seed(seed)
            .build();
    assertThat(TokenizerTrainingConfig.fromJson(c.toJsonString())).isEqualTo(c);
    assertThat(TokenizerTrainingConfig.fromJson(c.toJson())).isEqualTo(c);
  }

  /** The per-step lr is the warmup-cosine closed form at the fractional epoch. */
  @Property(tries = 50)
  void scheduleFollowsTheClosedForm(@ForAll @DoubleRange(min = 0, max = 200) double epoch) {
    TokenizerTrainingConfig c = TokenizerTrainingConfig.builder().minLr(1e-6).build();
    LrSchedule s = c.schedule();
    double expected =
        epoch < 50
            ? 4e-4 * epoch / 50
            : 1e-6 + (4e-4 - 1e-6) * 0.5 * (1 + Math.cos(Math.PI * (epoch - 50) / 150));
    assertThat(s.lr(epoch)).isCloseTo(expected, offset(1e-15));
  }

  @Test
  void invalidSettingsAreRejectedWithTheirNames() {
    assertThatThrownBy(() -> TokenizerTrainingConfig.builder().epochs(0).build())
        .hasMessageContaining("epochs");
    assertThatThrownBy(() -> TokenizerTrainingConfig.builder().maskRatio(1.0).build())
        .hasMessageContaining("mask_ratio");
    assertThatThrownBy(() -> TokenizerTrainingConfig.builder().maskRatioMin(0.5).build())
        .hasMessageContaining("mask_ratio_min");
    assertThatThrownBy(() -> TokenizerTrainingConfig.builder().noiseSchedule("lognorm").build())
        .hasMessageContaining("noise_schedule");
    assertThatThrownBy(() -> TokenizerTrainingConfig.builder().lr(1e-4).minLr(1e-3).build())
        .hasMessageContaining("min_lr");
    assertThatThrownBy(() -> TokenizerTrainingConfig.stage2().gamma(1.0).build())
        .hasMessageContaining("stage 2");
    assertThatThrownBy(() -> TokenizerTrainingConfig.stage2().semLossWeight(1.0).build())
        .hasMessageContaining("sem_loss_weight");
    assertThatThrownBy(() -> TokenizerTrainingConfig.fromJson("{\"stage\": 3}"))
        .hasMessageContaining("stage must be 1 or 2");
    assertThatThrownBy(() -> TokenizerTrainingConfig.fromJson("{\"foo\": 1}"))
        .hasMessageContaining("unknown key 'foo'");
    assertThatThrownBy(() -> TokenizerTrainingConfig.fromJson("{\"epochs\": \"ten\"}"))
        .hasMessageContaining("malformed value at 'epochs'");
    assertThatThrownBy(() -> TokenizerTrainingConfig.fromJson("[1]"))
        .hasMessageContaining("JSON object");
    assertThatThrownBy(() -> TokenizerTrainingConfig.fromJson("{"))
        .hasMessageContaining("not valid JSON");
  }

  @Test
  void replayedNoiseChecksShapes() {
    try (dev.rectok.torch.Scope s = dev.rectok.torch.Scope.open()) {
      dev.rectok.torch.Tensor t = dev.rectok.torch.Tensor.zeros(2, 4);
      TrainingNoise n = TrainingNoise.replay(0.25, t, t, t, t);
      assertThat(n.maskRatio(-0.1, 0.4)).isEqualTo(0.25);
      assertThat(n.maskNoise(2, 4, dev.rectok.api.Device.CPU).shape()).containsExactly(2, 4);
      assertThatThrownBy(() -> n.tauUniform(2, dev.rectok.api.Device.CPU))
          .hasMessageContaining("tau uniforms");
    }
  }

  /** The seeded source draws r uniformly in [lo, hi) and is reproducible from its seed. */
  @Property(tries = 20)
  void seededMaskRatioIsUniformInRange(@ForAll long seed) {
    try (TrainingNoise.Seeded a = TrainingNoise.seeded(seed, dev.rectok.api.Device.CPU);
        TrainingNoise.Seeded b = TrainingNoise.seeded(seed, dev.rectok.api.Device.CPU)) {
      for (int i = 0; i < 20; i++) {
        double r = a.maskRatio(-0.1, 0.4);
        assertThat(r).isBetween(-0.1, 0.4).isEqualTo(b.maskRatio(-0.1, 0.4));
      }
    }
  }
}
