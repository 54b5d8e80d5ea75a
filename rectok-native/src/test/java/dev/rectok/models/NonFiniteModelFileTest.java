package dev.rectok.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.api.Latents;
import dev.rectok.models.golden.GoldenCase;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.models.tokenizer.RecTokConfig;
import dev.rectok.models.tokenizer.TokenizerCheckpoints;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.torch.io.FiniteValues;
import dev.rectok.torch.io.HostTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10, non-finite values stopped at the door: model files with NaN/Inf weights or unusable
 * latent statistics are refused at load naming the tensor or channel, and NaN latents are not
 * decoded.
 */
class NonFiniteModelFileTest {
  private static final Path CASE1 =
      Path.of(System.getProperty("rectok.golden.dir"), "case1_tokenizer_inference");

  @Test
  void modelFilesWithNonFiniteWeightsOrStatisticsAreRefusedNamingTheTensor(@TempDir Path tmp)
      throws Exception {
    try (GoldenCase g = GoldenCase.open(CASE1);
        RecTok model = new RecTok(RecTokConfig.fromGoldenConfig(g.config()));
        Scope s = Scope.open()) {
      TokenizerCheckpoints.load(model, g.file("weights.pth"));
      float[] mean = g.tensor("input.latent_mean").toFloatArray();
      float[] std = g.tensor("input.latent_std").toFloatArray();
      Path good = tmp.resolve("good.safetensors");
      ModelFile.write(
          good, "tokenizer", ModelFile.configFromGolden(g.config()), model.stateDict(), mean, std);
      try (RecTokTokenizer tok = RecTokTokenizer.open(good, Device.CPU)) {
        assertThat(tok.hasStatistics()).isTrue();
        float[] nan = new float[tok.latentShape()[0] * tok.latentShape()[1] * tok.latentShape()[2]];
        nan[5] = Float.NaN;
        Latents bad =
            new Latents(
                nan, 1, tok.latentShape()[0], tok.latentShape()[1], tok.latentShape()[2], true);
        assertThatThrownBy(() -> tok.decode(bad))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("non-finite value (NaN in sample 0 at index 5)");
      }

      Map<String, Tensor> weights = new LinkedHashMap<>(model.stateDict());
      String victim = weights.keySet().stream().skip(weights.size() / 2).findFirst().orElseThrow();
      float[] v = weights.get(victim).toFloatArray();
      v[v.length - 1] = Float.POSITIVE_INFINITY;
      weights.put(victim, Tensor.of(v, weights.get(victim).shape()));
      Path inf = tmp.resolve("inf.safetensors");
      ModelFile.write(inf, "tokenizer", ModelFile.configFromGolden(g.config()), weights, mean, std);
      assertThatThrownBy(() -> RecTokTokenizer.open(inf, Device.CPU))
          .isInstanceOf(CheckpointFormatException.class)
          .hasMessageContaining("inf.safetensors")
          .hasMessageContaining("tensor '" + victim + "'")
          .hasMessageContaining("Infinity");

      float[] zeroStd = std.clone();
      zeroStd[3] = 0f;
      Path zero = tmp.resolve("zero-std.safetensors");
      ModelFile.write(
          zero,
          "tokenizer",
          ModelFile.configFromGolden(g.config()),
          model.stateDict(),
          mean,
          zeroStd);
      assertThatThrownBy(() -> RecTokTokenizer.open(zero, Device.CPU))
          .isInstanceOf(CheckpointFormatException.class)
          .hasMessageContaining("zero-std.safetensors")
          .hasMessageContaining("channel 3")
          .hasMessageContaining("std 0.0");
    }
  }

  @Test
  void everyFloatDtypeIsScannedAndIntegersAreAlwaysFinite() {
    try (Arena a = Arena.ofConfined()) {
      assertThat(
              FiniteValues.firstNonFinite(host(a, DType.FLOAT16, (short) 0x3c00, (short) 0x7c00)))
          .isEqualTo(1);
      assertThat(
              FiniteValues.firstNonFinite(host(a, DType.FLOAT16, (short) 0x3c00, (short) 0x7bff)))
          .isEqualTo(-1);
      assertThat(FiniteValues.firstNonFinite(host(a, DType.BFLOAT16, (short) 0x7fc0, (short) 0)))
          .isEqualTo(0);
      assertThat(FiniteValues.firstNonFinite(host(a, DType.BFLOAT16, (short) 0x7f7f, (short) 0)))
          .isEqualTo(-1);
      assertThat(FiniteValues.firstNonFinite(host(a, DType.INT16, (short) 0x7fff, (short) 0x7c00)))
          .isEqualTo(-1);
      MemorySegment d = a.allocate(16);
      d.set(ValueLayout.JAVA_DOUBLE_UNALIGNED, 8, Double.NEGATIVE_INFINITY);
      assertThat(FiniteValues.firstNonFinite(new HostTensor(DType.FLOAT64, new long[] {2}, d)))
          .isEqualTo(1);
    }
  }

  private static HostTensor host(Arena a, DType dt, short... v) {
    MemorySegment d = a.allocate(2L * v.length);
    for (int i = 0; i < v.length; i++) {
      d.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2L * i, v[i]);
    }
    return new HostTensor(dt, new long[] {v.length}, d);
  }
}
