package dev.rectok.train.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.models.tokenizer.RecTokConfig;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.Torch;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.train.loss.ConvNeXt;
import dev.rectok.train.loss.ConvNeXtLogitLoss;
import dev.rectok.train.loss.ModuleTeacher;
import dev.rectok.train.loss.PerceptualLoss;
import org.junit.jupiter.api.Test;

/** Branches of the training forward that golden case 2 does not reach, on the tiny model. */
class DistillationForwardTest {
  private static final long B = 2;
  private static final long L = 64;
  private static final int C = 8;

  private static TrainingNoise replay(double ratio, long lenKeep, long seed) {
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(seed)) {
      return TrainingNoise.replay(
          ratio,
          s.keep(Tensor.rand(g, B, L)),
          s.keep(Tensor.randn(g, B, lenKeep, C)),
          s.keep(Tensor.rand(g, B, 1, 1)),
          s.keep(Tensor.randn(g, B, lenKeep, C)));
    }
  }

  private static RecTok model() {
    Torch.manualSeed(1);
    RecTok m = new RecTok(TinyTokenizer.modelConfig());
    try (TorchGenerator g = TorchGenerator.cpu(1)) {
      m.initWeights(g);
    }
    return m;
  }

  @Test
  void ratioZeroStillShufflesAndMasksNothing() {
    try (RecTok tok = model();
        ModuleTeacher teacher = TinyTokenizer.teacher(2);
        Scope s = Scope.open();
        GradMode m = GradMode.noGrad()) {
      TokenizerTrainingConfig cfg = TinyTokenizer.stage1().build();
      try (LossTerms t =
          new DistillationForward(cfg, tok, teacher, null, null)
              .forward(TinyTokenizer.images(B, 3), null, replay(-0.05, L, 4), false, null)) {
        assertThat(t.maskRatio()).as("max(0, r)").isZero();
        assertThat(t.lenKeep()).isEqualTo((int) L);
        assertThat(t.mask().sum().item()).isZero();
        assertThat(
                t.idsShuffle()
                    .gather(1, t.idsRestore())
                    .equal(Tensor.arange(L).unsqueeze(0).expand(B, L)))
            .isTrue();
        assertThat(t.decoded().shape()).containsExactly(B, 3, 32, 32);
      }
    }
  }

  @Test
  void uniformScheduleUsesTheUniformsAsTau() {
    try (RecTok tok = model();
        ModuleTeacher teacher = TinyTokenizer.teacher(2);
        Scope s = Scope.open();
        GradMode m = GradMode.noGrad()) {
      TokenizerTrainingConfig shift = TinyTokenizer.stage1().build();
      TokenizerTrainingConfig uniform = shift.toBuilder().noiseSchedule("uniform").build();
      Tensor x = TinyTokenizer.images(B, 3);
      TrainingNoise noise = replay(0.25, 48, 5);
      Tensor u = noise.tauUniform(B, Device.CPU);
      try (LossTerms a =
              new DistillationForward(uniform, tok, teacher, null, null)
                  .forward(x, null, noise, false, null);
          LossTerms b =
              new DistillationForward(shift, tok, teacher, null, null)
                  .forward(x, null, noise, false, null)) {
        assertThat(a.tau().equal(u)).isTrue();
        double sh =
            DistillationForward.timestepShift(TinyTokenizer.modelConfig()); // sqrt(8·8·8/4096)
        assertThat(sh).isEqualTo(Math.sqrt(0.125));
        Tensor expected = u.mul(sh).div(u.mul(sh - 1).add(1.0));
        assertThat(b.tau().sub(expected).abs().max().item()).isZero();
        Tensor zNoisy =
            b.tau()
                .rsub(1.0)
                .mul(b.zSampled())
                .add(b.tau().mul(noise.latentEps(new long[] {B, 48, C}, Device.CPU)));
        assertThat(b.zNoisy().equal(zNoisy)).isTrue();
      }
    }
  }

  @Test
  void perceptualTermIsWeightedIntoTheTotal() {
    try (RecTok tok = model();
        ModuleTeacher teacher = TinyTokenizer.teacher(2);
        PerceptualLoss perceptual =
            new PerceptualLoss(
                null,
                new ConvNeXtLogitLoss(new ConvNeXt(new int[] {1, 1}, new long[] {8, 16}, 10), 32),
                1.0,
                0.1);
        Scope s = Scope.open()) {
      TokenizerTrainingConfig cfg = TinyTokenizer.stage1().perceptualWeight(2.0).build();
      try (LossTerms t =
          new DistillationForward(cfg, tok, teacher, perceptual, null)
              .forward(TinyTokenizer.images(B, 3), null, replay(0.25, 48, 6), false, null)) {
        double expected =
            t.pixelMse().item()
                + 2.0 * t.perceptual().item()
                + t.klWeighted().item()
                + t.semWeighted().item();
        assertThat(t.perceptual().item()).isPositive();
        assertThat(t.total().item()).isCloseTo(expected, offset(1e-6));
        assertThat(t.metrics()).containsKeys("perceptual", "loss", "sem_cosine");
      }
    }
  }

  @Test
  void rejectsMismatchedInputs() {
    try (RecTok tok = model();
        Scope s = Scope.open();
        GradMode m = GradMode.noGrad()) {
      TokenizerTrainingConfig cfg = TinyTokenizer.stage1().build();
      try (ModuleTeacher wide =
          new ModuleTeacher(new dev.rectok.torch.nn.Conv2d(3, 20, 4, 4, 0), x -> x)) {
        DistillationForward f = new DistillationForward(cfg, tok, wide, null, null);
        assertThatThrownBy(
                () -> f.forward(TinyTokenizer.images(B, 3), null, replay(0.25, 48, 7), false, null))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("foundationHiddenSize");
        assertThatThrownBy(
                () ->
                    f.forward(
                        Tensor.zeros(new long[] {B, 3, 16, 16}, DType.FLOAT32, Device.CPU),
                        null,
                        replay(0.25, 48, 7),
                        false,
                        null))
            .hasMessageContaining("(B, 3, 32, 32)");
        assertThatThrownBy(
                () -> f.forward(TinyTokenizer.images(B, 3), null, replay(0.25, 48, 7), true, null))
            .hasMessageContaining("no discriminator");
        assertThatThrownBy(
                () -> f.forward(TinyTokenizer.images(B, 3), null, replay(0.5, 48, 7), false, null))
            .hasMessageContaining("recorded posterior eps");
      }
      RecTokConfig noSem = TinyTokenizer.modelConfig().toBuilder().foundationModelType("").build();
      try (RecTok plain = new RecTok(noSem)) {
        assertThatThrownBy(() -> new DistillationForward(cfg, plain, null, null, null))
            .hasMessageContaining("semantic decoder");
      }
    }
  }
}
