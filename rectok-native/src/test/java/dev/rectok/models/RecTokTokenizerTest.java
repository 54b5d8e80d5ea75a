package dev.rectok.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.Device;
import dev.rectok.api.Latents;
import dev.rectok.models.golden.GoldenCase;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.models.tokenizer.RecTokConfig;
import dev.rectok.models.tokenizer.TokenizerCheckpoints;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.torch.io.SafeTensors;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Tokenizer API over the golden case1 model, loaded from the SDK's own model file. */
class RecTokTokenizerTest {
  private static final Path CASE1 =
      Path.of(System.getProperty("rectok.golden.dir"), "case1_tokenizer_inference");
  @TempDir static Path tmp;
  private static Path modelFile;
  private static Path noStatsFile;
  private static RecTokTokenizer tokenizer;

  @BeforeAll
  static void convert() throws IOException {
    try (GoldenCase g = GoldenCase.open(CASE1);
        RecTok model = new RecTok(RecTokConfig.fromGoldenConfig(g.config()))) {
      TokenizerCheckpoints.load(model, g.file("weights.pth"));
      modelFile = tmp.resolve("tok.safetensors");
      noStatsFile = tmp.resolve("tok-nostats.safetensors");
      try (Scope s = Scope.open()) {
        ModelFile.write(
            modelFile,
            "tokenizer",
            ModelFile.configFromGolden(g.config()),
            model.stateDict(),
            g.tensor("input.latent_mean").toFloatArray(),
            g.tensor("input.latent_std").toFloatArray());
        ModelFile.write(
            noStatsFile,
            "tokenizer",
            ModelFile.configFromGolden(g.config()),
            model.stateDict(),
            null,
            null);
      }
    }
    tokenizer = RecTokTokenizer.open(modelFile, Device.CPU);
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  static BufferedImage image(Random r, int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(
            x, y, ((x * 7 + r.nextInt(40)) & 0xff) << 16 | ((y * 5) & 0xff) << 8 | r.nextInt(256));
      }
    }
    return img;
  }

  @Test
  void theModelFileCarriesConfigWeightsAndStatistics() throws IOException {
    try (GoldenCase g = GoldenCase.open(CASE1);
        var f = SafeTensors.open(modelFile);
        Scope s = Scope.open()) {
      ModelFile.Header h = ModelFile.header(f);
      assertThat(h.kind()).isEqualTo("tokenizer");
      assertThat(h.hasStatistics()).isTrue();
      assertThat(h.tokenizerConfig()).isEqualTo(RecTokConfig.fromGoldenConfig(g.config()));
      // the reopened model reproduces the reference's tokens on the golden input
      Tensor tokens = tokenizer.model().tokenize(g.tensor("input.image"));
      assertThat(g.compare("output.tokens", tokens).relError()).isLessThan(1e-6);
    }
  }

  @Test
  void encodeDecodeShapesAndNormalizedEqualsRawDecoding() {
    Random r = new Random(1);
    List<BufferedImage> images = List.of(image(r, 64, 64), image(r, 90, 70), image(r, 130, 200));
    Latents norm = tokenizer.encode(images);
    Latents raw = tokenizer.encode(images, false, 0, false);
    int[] shape = tokenizer.latentShape();
    assertThat(norm.shape()).containsExactly(3, shape[0], shape[1], shape[2]);
    assertThat(norm.normalized()).isTrue();
    assertThat(raw.normalized()).isFalse();
    List<BufferedImage> a = tokenizer.decode(norm);
    List<BufferedImage> b = tokenizer.decode(raw);
    assertThat(a).hasSize(3).allMatch(i -> i.getWidth() == 64 && i.getHeight() == 64);
    for (int i = 0; i < 3; i++) {
      for (int y = 0; y < 64; y += 7) {
        for (int x = 0; x < 64; x += 5) {
          int p = a.get(i).getRGB(x, y);
          int q = b.get(i).getRGB(x, y);
          for (int sh = 0; sh < 24; sh += 8) {
            assertThat(Math.abs(((p >> sh) & 0xff) - ((q >> sh) & 0xff))).isLessThanOrEqualTo(1);
          }
        }
      }
    }
    assertThat(tokenizer.reconstruct(images.subList(0, 1))).hasSize(1);
  }

  @Test
  void samplingIsSeededAndDiffersFromTheMean() {
    List<BufferedImage> images = List.of(image(new Random(2), 64, 64));
    Latents mean = tokenizer.encode(images, false, 0, true);
    Latents s1 = tokenizer.encode(images, true, 7, true);
    Latents s2 = tokenizer.encode(images, true, 7, true);
    Latents s3 = tokenizer.encode(images, true, 8, true);
    assertThat(s1).isEqualTo(s2);
    assertThat(s1).isNotEqualTo(s3).isNotEqualTo(mean);
  }

  @Test
  void withoutStatisticsNormalizedLatentsAreRefusedWithTheRemedy() throws IOException {
    try (RecTokTokenizer bare = RecTokTokenizer.open(noStatsFile, Device.CPU)) {
      assertThat(bare.hasStatistics()).isFalse();
      List<BufferedImage> images = List.of(image(new Random(3), 64, 64));
      assertThat(bare.encode(images, false, 0, false).normalized()).isFalse();
      assertThatThrownBy(() -> bare.encode(images))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("rectok stats")
          .hasMessageContaining("--stats");
    }
  }

  @Test
  void plainSafetensorsAndWrongKindsAreRefused() throws IOException {
    assertThatThrownBy(() -> RecTokTokenizer.open(CASE1.resolve("weights.safetensors"), Device.CPU))
        .isInstanceOf(CheckpointFormatException.class)
        .hasMessageContaining("rectok convert");
    Path gen = tmp.resolve("gen.safetensors");
    try (Tensor t = Tensor.zeros(2)) {
      ModelFile.write(
          gen, "generator", ModelFile.presetConfig("DiTDDT_s"), Map.of("x", t), null, null);
    }
    assertThatThrownBy(() -> RecTokTokenizer.open(gen, Device.CPU))
        .hasMessageContaining("holds a generator, not a tokenizer");
    assertThatThrownBy(() -> tokenizer.decode(new Latents(new float[2 * 3 * 3], 1, 2, 3, 3, true)))
        .hasMessageContaining("do not fit");
  }

  @Test
  void theApiOpensItThroughTheBackendServiceAndConcurrentCallsEqualSerial() throws Exception {
    List<BufferedImage> images =
        List.of(image(new Random(4), 64, 64), image(new Random(5), 80, 64));
    try (dev.rectok.api.Tokenizer api =
        dev.rectok.api.Backends.openTokenizer(modelFile, Device.CPU)) {
      assertThat(api).isInstanceOf(RecTokTokenizer.class);
      Latents serial = api.encode(images);
      try (var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
        List<java.util.concurrent.Future<Latents>> futures = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
          futures.add(pool.submit(() -> api.encode(images)));
        }
        for (var f : futures) {
          assertThat(f.get()).isEqualTo(serial);
        }
      }
    }
  }

  @Test
  void theTensorFormsReproduceTheReference() throws IOException {
    try (GoldenCase g = GoldenCase.open(CASE1);
        Scope s = Scope.open()) {
      Tensor tokens = tokenizer.encodeTensor(g.tensor("input.image"), false, 0, true);
      assertThat(g.compare("output.tokens", tokens).relError()).isLessThan(1e-6);
      assertThat(g.compare("output.detokenized", tokenizer.decodeTensor(tokens, true)).relError())
          .isLessThan(1e-6);
      Tensor raw = tokenizer.encodeTensor(g.tensor("input.image"), false, 0, false);
      assertThat(g.compare("output.detokenized", tokenizer.decodeTensor(raw, false)).relError())
          .isLessThan(1e-6);
    }
  }
}
