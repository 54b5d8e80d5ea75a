package dev.rectok.train.generator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.Scope;
import dev.rectok.train.loop.Batch;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** bf16 autocast of the DiT forward: same loss to bf16 precision, float32 parameters. */
class GeneratorMixedPrecisionTest {

  @Test
  void bf16AutocastStepAgreesWithFloat32() {
    GeneratorTrainingConfig cfg = TinyGen.config().build();
    try (TinyGen.FixedLatents la = new TinyGen.FixedLatents(16, 1);
        TinyGen.FixedLatents lb = new TinyGen.FixedLatents(16, 1);
        GeneratorTrainer fp32 = new GeneratorTrainer(cfg, la, Device.CPU);
        GeneratorTrainer bf16 = new GeneratorTrainer(cfg, lb, Device.CPU);
        Scope s = Scope.open()) {
      bf16.mixedPrecision(DType.BFLOAT16);
      try (Batch a = TinyGen.batch(0, 8, 16);
          Batch b = TinyGen.batch(0, 8, 16)) {
        Map<String, Double> ma = fp32.step(a, 0.0);
        Map<String, Double> mb = bf16.step(b, 0.0);
        assertThat(mb.get("loss")).isFinite();
        assertThat(Math.abs(mb.get("loss") - ma.get("loss")) / ma.get("loss")).isLessThan(0.05);
      }
      bf16.model()
          .namedParameters()
          .forEach((n, p) -> assertThat(p.data().dtype()).as(n).isEqualTo(DType.FLOAT32));
    }
  }
}
