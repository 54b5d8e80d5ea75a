package dev.rectok.train.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.train.loop.Batch;
import dev.rectok.train.loss.ModuleTeacher;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * bf16 autocast of the tokenizer trainer's forward (the reference trains under bf16 autocast on
 * CUDA; the CPU runs the same per-call mechanism): the step works, its loss agrees with float32 to
 * bf16 precision, and parameters, gradients and optimizer stay float32.
 */
class MixedPrecisionTest {

  @Test
  void bf16AutocastStepAgreesWithFloat32AndKeepsFloat32Parameters() {
    TokenizerTrainingConfig cfg = TinyTokenizer.stage1().build();
    try (ModuleTeacher teacher = TinyTokenizer.teacher(3);
        TokenizerTrainer fp32 =
            TokenizerTrainer.stage1(cfg, TinyTokenizer.modelConfig(), teacher, null, Device.CPU);
        TokenizerTrainer bf16 =
            TokenizerTrainer.stage1(cfg, TinyTokenizer.modelConfig(), teacher, null, Device.CPU);
        Scope s = Scope.open()) {
      bf16.mixedPrecision(DType.BFLOAT16);
      Tensor images = TinyTokenizer.images(4, 5);
      Batch b = TinyTokenizer.batch(images);
      Tensor before = bf16.model().stateDict().get("encoder.positional_embedding").clone();
      Map<String, Double> a = fp32.step(b, 0.0);
      Map<String, Double> m = bf16.step(b, 0.0);
      assertThat(m.get("loss")).isFinite();
      assertThat(Math.abs(m.get("loss") - a.get("loss")) / a.get("loss"))
          .as("bf16 vs fp32 loss")
          .isLessThan(0.05);
      assertThat(m.get("disc_loss")).isFinite();
      bf16.model()
          .namedParameters()
          .forEach((name, p) -> assertThat(p.data().dtype()).as(name).isEqualTo(DType.FLOAT32));
      // the step moved the weights
      assertThat(bf16.model().stateDict().get("encoder.positional_embedding").equal(before))
          .isFalse();
      assertThatThrownBy(() -> bf16.mixedPrecision(DType.FLOAT16)).hasMessageContaining("float16");
    }
  }
}
