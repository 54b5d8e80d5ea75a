package dev.rectok.train.generator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.train.data.DataLoader;
import dev.rectok.train.data.ImageDataset;
import dev.rectok.train.generator.LatentCache.FlipRule;
import dev.rectok.train.generator.LatentCache.ImageSource;
import dev.rectok.train.loop.Batch;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link OnlineLatents} and {@link LatentCache} over a tiny random tokenizer with per-channel
 * statistics.
 */
class LatentSourcesTest {
  private static final long[] CACHED = {5, 2, 0, 3};

  @TempDir Path dir;
  private RecTok tok;
  private Tensor images;

  @BeforeEach
  void setUp() {
    tok = new RecTok(TinyGen.tokenizer());
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(11)) {
      tok.initWeights(g);
      tok.resetStats(Tensor.rand(g, 8).sub(0.5), Tensor.rand(g, 8).add(0.5));
      images = s.keep(Tensor.rand(g, 6, 3, 32, 32).mul(2).sub(1));
    }
  }

  @AfterEach
  void tearDown() {
    images.close();
    tok.close();
  }

  private Path build(DType storage) throws IOException {
    Path file = dir.resolve("latents-" + storage + ".safetensors");
    LatentCache.build(file, tok, CACHED, ImageSource.ofTensor(images), 3, Device.CPU, storage);
    return file;
  }

  private static Batch batch(long[] indices, int epoch, Tensor images) {
    long[] labels = new long[indices.length];
    return new Batch(images, Tensor.of(labels), indices, epoch, 0);
  }

  private static double maxAbsDiff(Tensor a, Tensor b) {
    return a.sub(b).abs().max().item();
  }

  @Test
  void cacheStoresTheNormalizedPosteriorOfBothOrientations() throws IOException {
    try (LatentCache cache = LatentCache.open(build(DType.FLOAT32), FlipRule.none());
        Scope s = Scope.open();
        GradMode g = GradMode.noGrad()) {
      assertThat(cache.size()).isEqualTo(4);
      assertThat(cache.channels()).isEqualTo(8);
      assertThat(cache.gridSize()).isEqualTo(8);
      assertThat(cache.contains(1)).isFalse();
      for (long idx : CACHED) {
        Tensor x = images.narrow(0, idx, 1);
        for (boolean flip : new boolean[] {false, true}) {
          Tensor img = flip ? x.flip(3) : x;
          Tensor[] p = cache.posterior(idx, flip);
          // the mean is tokenize(x) (posterior mean, normalized)
          assertThat(maxAbsDiff(p[0], tok.tokenize(img).squeeze(0)))
              .as("mean %d %s", idx, flip)
              .isLessThan(1e-5);
          // the std is std * scale / sigma_c, as (C, h, w)
          try (RecTok.Encoding e = tok.encode(img, false, null)) {
            Tensor std = e.posterior().std().div(tok.latentStd()).transpose(1, 2).reshape(8, 8, 8);
            assertThat(maxAbsDiff(p[1], std)).isLessThan(1e-5);
          }
        }
      }
      // the two orientations differ (the tokenizer is not flip-equivariant)
      assertThat(maxAbsDiff(cache.posterior(2, false)[0], cache.posterior(2, true)[0]))
          .isGreaterThan(1e-3);
    }
  }

  @Test
  void servingSamplesMeanPlusStdTimesFreshNoiseWithTheEpochsFlips() throws IOException {
    long seed = 4;
    FlipRule flips = FlipRule.dataLoader(seed);
    long[] idx = {3, 0, 5};
    try (LatentCache cache = LatentCache.open(build(DType.FLOAT32), flips);
        Scope s = Scope.open();
        TorchGenerator g1 = TorchGenerator.cpu(9);
        TorchGenerator g2 = TorchGenerator.cpu(9)) {
      for (int epoch = 0; epoch < 3; epoch++) {
        Tensor z = cache.latents(batch(idx, epoch, images.narrow(0, 0, 3)), g1, Device.CPU);
        assertThat(z.shape()).containsExactly(3, 8, 8, 8);
        Tensor eps = Tensor.randn(g2, 3, 8, 8, 8);
        for (int i = 0; i < idx.length; i++) {
          boolean f = DataLoader.flipped(seed, epoch, (int) idx[i]);
          assertThat(flips.flipped(epoch, idx[i])).isEqualTo(f);
          Tensor[] p = cache.posterior(idx[i], f);
          Tensor expected = p[0].add(p[1].mul(eps.select(0, i)));
          assertThat(z.select(0, i).equal(expected))
              .as("sample %d epoch %d", idx[i], epoch)
              .isTrue();
        }
      }
      assertThatThrownBy(
              () -> cache.latents(batch(new long[] {1}, 0, images.narrow(0, 0, 1)), g1, Device.CPU))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("sample 1 is not in the latent cache");
    }
  }

  @Test
  void bfloat16StorageIsCloseToFloat32() throws IOException {
    try (LatentCache f32 = LatentCache.open(build(DType.FLOAT32), FlipRule.none());
        LatentCache bf16 = LatentCache.open(build(DType.BFLOAT16), FlipRule.none());
        Scope s = Scope.open()) {
      assertThat(bf16.storageDType()).isEqualTo(DType.BFLOAT16);
      assertThat(Files.size(bf16Path()))
          .isLessThan(Files.size(dir.resolve("latents-" + DType.FLOAT32 + ".safetensors")));
      Tensor a = f32.posterior(3, true)[0];
      Tensor b = bf16.posterior(3, true)[0];
      assertThat(maxAbsDiff(a, b)).isLessThan(a.abs().max().item() * 1e-2);
    }
  }

  private Path bf16Path() {
    return dir.resolve("latents-" + DType.BFLOAT16 + ".safetensors");
  }

  @Test
  void corruptTruncatedAndForeignFilesAreRejected() throws IOException {
    Path good = build(DType.FLOAT32);
    byte[] bytes = Files.readAllBytes(good);

    Path flipped = dir.resolve("flipped.safetensors");
    byte[] copy = bytes.clone();
    copy[copy.length - 7] ^= 0x10; // a latent value
    Files.write(flipped, copy);
    assertThatThrownBy(() -> LatentCache.open(flipped, FlipRule.none()))
        .isInstanceOf(CheckpointFormatException.class)
        .hasMessageContaining("checksum");

    Path truncated = dir.resolve("truncated.safetensors");
    Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 100));
    assertThatThrownBy(() -> LatentCache.open(truncated, FlipRule.none()))
        .isInstanceOf(IOException.class);

    Path foreign = dir.resolve("foreign.safetensors");
    try (Scope s = Scope.open();
        var arena = java.lang.foreign.Arena.ofConfined()) {
      dev.rectok.torch.io.SafeTensors.write(
          foreign, java.util.Map.of("mean", Tensor.zeros(2).toHost(arena)), java.util.Map.of());
    }
    assertThatThrownBy(() -> LatentCache.open(foreign, FlipRule.none()))
        .isInstanceOf(CheckpointFormatException.class)
        .hasMessageContaining("not a RecTok latent cache");
  }

  @Test
  void buildValidatesItsInputAndLeavesNoFileOnFailure() {
    Path file = dir.resolve("bad.safetensors");
    assertThatThrownBy(
            () ->
                LatentCache.build(
                    file,
                    tok,
                    new long[] {1, 1},
                    ImageSource.ofTensor(images),
                    2,
                    Device.CPU,
                    DType.FLOAT32))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unique");
    assertThatThrownBy(
            () ->
                LatentCache.build(
                    file,
                    tok,
                    new long[] {1},
                    ImageSource.ofTensor(images),
                    2,
                    Device.CPU,
                    DType.FLOAT16))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("storage");
    ImageSource wrongSize = i -> Tensor.zeros(i.length, 3, 16, 16);
    assertThatThrownBy(
            () ->
                LatentCache.build(
                    file, tok, new long[] {1}, wrongSize, 2, Device.CPU, DType.FLOAT32))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("(n, 3, 32, 32)");
    assertThat(file).doesNotExist();
  }

  /**
   * A cache built from an image folder serves, for each batch of a {@link DataLoader} with the same
   * seed, the posterior of exactly the orientation the loader produced.
   */
  @Test
  void cacheOverAnImageDatasetFollowsTheLoadersFlips() throws IOException {
    Path images = dir.resolve("images");
    for (int i = 0; i < 5; i++) {
      BufferedImage img = new BufferedImage(40, 36, BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < 36; y++) {
        for (int x = 0; x < 40; x++) {
          img.setRGB(
              x,
              y,
              ((x * 7 + i * 40) & 0xff) << 16
                  | ((y * 5 + x * i) & 0xff) << 8
                  | ((x * y + i) & 0xff));
        }
      }
      Files.createDirectories(images.resolve("c" + (i % 2)));
      ImageIO.write(img, "png", images.resolve("c" + (i % 2) + "/" + i + ".png").toFile());
    }
    ImageDataset ds = ImageDataset.fromFolder(images, 32);
    Path file = dir.resolve("ds.safetensors");
    LatentCache.build(
        file,
        tok,
        new long[] {0, 1, 2, 3, 4},
        ImageSource.ofDataset(ds),
        2,
        Device.CPU,
        DType.FLOAT32);
    long seed = 21;
    int flipsSeen = 0;
    try (LatentCache cache = LatentCache.open(file, FlipRule.dataLoader(seed));
        DataLoader loader = DataLoader.builder(ds).batchSize(5).seed(seed).epoch(1).build();
        DataLoader.Batch b = loader.next();
        Scope s = Scope.open();
        GradMode g = GradMode.noGrad()) {
      Tensor z = tok.tokenize(b.images());
      for (int i = 0; i < b.size(); i++) {
        long idx = b.indices()[i];
        flipsSeen += b.flips()[i] ? 1 : 0;
        assertThat(FlipRule.dataLoader(seed).flipped(1, idx)).isEqualTo(b.flips()[i]);
        assertThat(maxAbsDiff(cache.posterior(idx, b.flips()[i])[0], z.select(0, i)))
            .as("sample %d", idx)
            .isLessThan(1e-5);
      }
    }
    assertThat(flipsSeen).as("the seed flips some but not all of the five").isBetween(1, 4);
  }

  @Test
  void onlineLatentsAreTheSampledTokenization() {
    try (OnlineLatents online = new OnlineLatents(tok);
        Scope s = Scope.open();
        TorchGenerator g1 = TorchGenerator.cpu(5);
        TorchGenerator g2 = TorchGenerator.cpu(5)) {
      assertThat(online.channels()).isEqualTo(8);
      assertThat(online.gridSize()).isEqualTo(8);
      Tensor x = images.narrow(0, 0, 2);
      Tensor z = online.latents(batch(new long[] {0, 1}, 0, x), g1, Device.CPU);
      assertThat(z.requiresGrad()).isFalse();
      try (GradMode noGrad = GradMode.noGrad()) {
        // the same mode as OnlineLatents: under autograd RMSNorm takes the composite ops, whose
        // sum differs from the fused kernel's in the last bits
        assertThat(z.equal(tok.tokenize(x, true, g2))).isTrue();
      }
      assertThat(maxAbsDiff(z, tok.tokenize(x))).as("sampled, not the mean").isGreaterThan(1e-3);
      assertThatThrownBy(
              () ->
                  online.latents(
                      batch(new long[] {0}, 0, Tensor.zeros(1, 3, 16, 16)), g1, Device.CPU))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("(1, 3, 32, 32)");
    }
  }

  /**
   * End to end: the trainer runs on both real sources, and their latent scale is that of the
   * tokenizer.
   */
  @Test
  void trainerStepsOnOnlineAndCachedLatents() throws IOException {
    GeneratorTrainingConfig cfg = TinyGen.config().batchSize(3).build();
    try (OnlineLatents online = new OnlineLatents(tok);
        LatentCache cache = LatentCache.open(build(DType.FLOAT32), FlipRule.none());
        GeneratorTrainer a = new GeneratorTrainer(cfg, online, Device.CPU);
        GeneratorTrainer b = new GeneratorTrainer(cfg, cache, Device.CPU)) {
      for (int k = 0; k < 2; k++) {
        try (Scope s = Scope.open()) {
          long[] idx = {5, 2, 0};
          Tensor x = images.indexSelect(0, Tensor.of(idx));
          Batch bt = new Batch(x, Tensor.of(new long[] {1, 2, 3}), idx, 0, k);
          assertThat(a.step(bt, 0).get("loss")).isFinite().isPositive();
          assertThat(b.step(bt, 0).get("loss")).isFinite().isPositive();
        }
      }
    }
  }
}
