package dev.rectok.generate.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.models.golden.GoldenCase;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class TimeGridTest {

  static GoldenCase case4() throws IOException {
    return GoldenCase.open(Path.of(System.getProperty("rectok.golden.dir"), "case4_tables"));
  }

  @Test
  void samplerGridsMatchCase4BitForBit() throws IOException {
    try (GoldenCase g = case4()) {
      var it = g.config().path("grids").properties().iterator();
      int n = 0;
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        float[] grid =
            TimeGrid.samplerGrid(
                e.getValue().path("num_steps").asInt(),
                e.getValue().path("timestep_shift").asDouble());
        try (Tensor t = Tensor.of(grid)) {
          GoldenCase.Comparison c = g.compare("table." + e.getKey(), t);
          assertThat(c.maxAbsError()).as(c.toString()).isZero();
        }
        n++;
      }
      assertThat(n).isEqualTo(6);
    }
  }

  @Test
  void linspaceMatchesCase4AndLibTorchBitForBit() throws IOException {
    try (GoldenCase g = case4()) {
      var it = g.config().path("linspace").properties().iterator();
      int n = 0;
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        float[] ours = TimeGrid.linspace(0f, 1f, e.getValue().path("steps").asInt());
        try (Tensor t = Tensor.of(ours)) {
          GoldenCase.Comparison c = g.compare("table." + e.getKey(), t);
          assertThat(c.maxAbsError()).as(c.toString()).isZero();
        }
        n++;
      }
      assertThat(n).isEqualTo(2);
    }
  }

  @Property(tries = 60)
  void linspaceEqualsLibTorchsForAnyLength(
      @ForAll @IntRange(min = 0, max = 600) int steps,
      @ForAll @IntRange(min = -9, max = 9) int start,
      @ForAll @IntRange(min = -9, max = 9) int end,
      @ForAll @IntRange(min = 1, max = 13) int denominator) {
    float s = start / 3f;
    float e = end / (float) denominator;
    try (Tensor t = Tensor.linspace(s, e, steps, DType.FLOAT32, Device.CPU)) {
      assertThat(TimeGrid.linspace(s, e, steps)).containsExactly(t.toFloatArray());
    }
  }

  @Test
  void releaseGridHasTheDocumentedValues() {
    float[] t = Sampler.evaluation(128, 16, 16).grid();
    assertThat(t).hasSize(150);
    assertThat(t[0]).isZero();
    assertThat(t[149]).isEqualTo(1f);
    assertThat((double) t[1]).isCloseTo(0.0023832, within(1e-7));
    assertThat((double) t[5]).isCloseTo(0.0121272, within(1e-7));
    assertThat((double) t[144]).isCloseTo(0.9105732, within(1e-7));
    assertThat((double) t[148]).isCloseTo(0.9812474, within(1e-7));
    assertThat(TimeGrid.resolutionShift(128, 16, 16)).isEqualTo(Math.sqrt(8));
  }

  @Test
  void trainingTimesFollowTheShiftedLawInFloat32() {
    double s = Math.sqrt(8);
    float[] u;
    try (TorchGenerator gen = TorchGenerator.cpu(7);
        Tensor r = Tensor.rand(gen, 4096)) {
      u = r.toFloatArray();
    }
    float[] t;
    try (TorchGenerator gen = TorchGenerator.cpu(7);
        Tensor tt = TimeGrid.trainingTimes(4096, s, gen, Device.CPU)) {
      assertThat(tt.shape()).containsExactly(4096);
      t = tt.toFloatArray();
    }
    float[] m = TimeGrid.shifted(u, s);
    double mean = 0;
    for (int i = 0; i < t.length; i++) {
      assertThat(t[i]).isEqualTo(1f - m[i]).isBetween(0f, 1f);
      mean += t[i];
    }
    // E[t] = 1 - E[m] < 0.5 for s > 1: the law favours the noisy end.
    assertThat(mean / t.length).isLessThan(0.35);
    try (TorchGenerator gen = TorchGenerator.cpu(7);
        Tensor plain = TimeGrid.trainingTimes(4096, 1.0, gen, Device.CPU)) {
      assertThat(plain.toFloatArray()).containsExactly(u);
    }
  }

  @Test
  void linearPathInterpolatesNoiseToData() {
    try (Tensor x0 = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor x1 = Tensor.of(new float[] {5, 6, 7, 8}, 2, 2);
        Tensor t = Tensor.of(new float[] {0f, 0.25f});
        Tensor xt = LinearPath.interpolate(x0, x1, t);
        Tensor u = LinearPath.velocityTarget(x0, x1)) {
      assertThat(xt.toFloatArray())
          .containsExactly(1, 2, 0.25f * 7 + 0.75f * 3, 0.25f * 8 + 0.75f * 4);
      assertThat(u.toFloatArray()).containsExactly(4, 4, 4, 4);
    }
  }
}
