package dev.rectok.models.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LatentStatisticsTest {

  @Test
  void jsonRoundTripKeepsEveryFloatBitForBit(@TempDir Path dir) throws IOException {
    Random r = new Random(42);
    int c = 2000;
    float[] mean = new float[c];
    float[] std = new float[c];
    for (int i = 0; i < c; i++) {
      // arbitrary bit patterns over the whole finite range, including subnormals
      float m;
      do {
        m = Float.intBitsToFloat(r.nextInt());
      } while (!Float.isFinite(m));
      mean[i] = m;
      std[i] =
          Math.abs(
              i % 3 == 0 ? Float.intBitsToFloat(r.nextInt(0x7f7fffff) + 1) : r.nextFloat() + 1e-3f);
    }
    mean[0] = -0.0f;
    std[1] = Float.MIN_VALUE;
    std[2] = Float.MAX_VALUE;
    LatentStatistics s = new LatentStatistics(mean, std, 1_281_167L * 256, 1_281_167L);
    Path file = dir.resolve("sub/stats.json");
    s.write(file);
    LatentStatistics back = LatentStatistics.read(file);
    assertThat(back).isEqualTo(s);
    for (int i = 0; i < c; i++) {
      assertThat(Float.floatToRawIntBits(back.mean(i)))
          .as("mean %d", i)
          .isEqualTo(Float.floatToRawIntBits(mean[i]));
      assertThat(Float.floatToRawIntBits(back.std(i)))
          .as("std %d", i)
          .isEqualTo(Float.floatToRawIntBits(std[i]));
    }
    assertThat(back.count()).isEqualTo(1_281_167L * 256);
    assertThat(back.images()).isEqualTo(1_281_167L);
    assertThat(Files.readString(file)).contains("\"format\" : \"rectok-latent-statistics\"");
    try (var stream = Files.list(file.getParent())) {
      assertThat(stream.toList()).containsExactly(file); // no temp file left behind
    }
  }

  @Test
  void arraysAreCopiedInAndOut() {
    float[] m = {1, 2};
    LatentStatistics s = new LatentStatistics(m, new float[] {1, 1}, 2, 1);
    m[0] = 9;
    s.mean()[1] = 9;
    assertThat(s.mean()).containsExactly(1, 2);
    assertThat(s.channels()).isEqualTo(2);
  }

  @Test
  void constructorRejectsInvalidValues() {
    assertThatThrownBy(() -> new LatentStatistics(new float[] {0}, new float[] {0}, 1, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("std of channel 0");
    assertThatThrownBy(() -> new LatentStatistics(new float[] {Float.NaN}, new float[] {1}, 1, 1))
        .hasMessageContaining("mean of channel 0 is not finite");
    assertThatThrownBy(() -> new LatentStatistics(new float[] {0, 1}, new float[] {1}, 1, 1))
        .hasMessageContaining("2 channels but std has 1");
    assertThatThrownBy(() -> new LatentStatistics(new float[0], new float[0], 1, 1))
        .hasMessageContaining("no channels");
    assertThatThrownBy(() -> new LatentStatistics(new float[] {0}, new float[] {1}, -1, 1))
        .hasMessageContaining("negative");
  }

  private static final String GOOD_HEAD = "\"format\":\"rectok-latent-statistics\",\"version\":1,";

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
      not json            | {"format":                                                                            | not valid JSON
      array               | []                                                                                   | not a JSON object
      wrong format        | {"format":"other","version":1,"channels":1,"count":1,"images":1,"mean":[0],"std":[1]} | format is not
      future version      | {"format":"rectok-latent-statistics","version":2,"channels":1,"count":1,"images":1,"mean":[0],"std":[1]} | unsupported version 2
      missing std         | {HEAD"channels":1,"count":1,"images":1,"mean":[0]}                                  | "std" missing
      length mismatch     | {HEAD"channels":2,"count":1,"images":1,"mean":[0,1],"std":[1]}                      | channels is 2
      channels mismatch   | {HEAD"channels":3,"count":1,"images":1,"mean":[0,1],"std":[1,1]}                    | channels is 3
      zero std            | {HEAD"channels":2,"count":1,"images":1,"mean":[0,1],"std":[1,0]}                    | std of channel 1
      negative std        | {HEAD"channels":1,"count":1,"images":1,"mean":[0],"std":[-2]}                       | std of channel 0
      NaN as string       | {HEAD"channels":1,"count":1,"images":1,"mean":["NaN"],"std":[1]}                    | mean[0] is not a number
      overflowing mean    | {HEAD"channels":1,"count":1,"images":1,"mean":[1e999],"std":[1]}                    | not finite
      fractional count    | {HEAD"channels":1,"count":1.5,"images":1,"mean":[0],"std":[1]}                      | "count" missing or not an integer
      no channels         | {HEAD"channels":0,"count":1,"images":1,"mean":[],"std":[]}                          | no channels
      """)
  void malformedFilesAreRejectedWithTheFileAndTheReason(
      String name, String json, String reason, @TempDir Path dir) throws IOException {
    Path file = Files.writeString(dir.resolve("bad.json"), json.replace("{HEAD", "{" + GOOD_HEAD));
    assertThatThrownBy(() -> LatentStatistics.read(file))
        .as(name)
        .isInstanceOf(IOException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining(reason);
  }

  @Test
  void missingFileIsAnIOException(@TempDir Path dir) {
    assertThatThrownBy(() -> LatentStatistics.read(dir.resolve("none.json")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("not found");
  }

  @Test
  void normalizeWithInstallsPerChannelBuffers() {
    try (Scope s = Scope.open();
        GradMode g = GradMode.noGrad();
        RecTok tok = new RecTok(TestImages.tinyConfig())) {
      LatentStatistics st =
          new LatentStatistics(
              new float[] {1, 2, 3, 4, 5, 6}, new float[] {2, 2, 2, 2, 2, 4}, 16, 1);
      st.normalizeWith(tok);
      assertThat(tok.latentMean().shape()).containsExactly(1, 1, 6);
      assertThat(tok.latentStd().toFloatArray()).containsExactly(2, 2, 2, 2, 2, 4);
      Tensor z = Tensor.ones(1, 16, 6).mul(6);
      assertThat(tok.normalizeZ(z).narrow(2, 5, 1).sub(0.0).abs().max().item()).isZero();
      LatentStatistics wrong = new LatentStatistics(new float[] {0}, new float[] {1}, 1, 1);
      assertThatThrownBy(() -> wrong.normalizeWith(tok))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("1 channels but the tokenizer has 6");
    }
  }
}
