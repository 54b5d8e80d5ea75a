package dev.rectok.train.generator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.api.GenerateOptions;
import dev.rectok.api.Latents;
import dev.rectok.api.Progress;
import dev.rectok.generate.DiTGenerator;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.train.TestData;
import dev.rectok.train.data.FashionMnist;
import dev.rectok.train.generator.LatentCache.FlipRule;
import dev.rectok.train.generator.LatentCache.ImageSource;
import dev.rectok.train.loop.Batch;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole pipeline on real data: Fashion-MNIST (padded to 32×32) through a tiny random tokenizer
 * with statistics measured on the data, a latent cache, 60 generator steps, export, sampling.
 */
class FashionMnistGeneratorTest {
  private static final int N = 256;
  private static final int B = 32;

  @Test
  void trainsOnCachedFashionMnistLatentsAndGenerates(@TempDir Path dir) throws Exception {
    Path fm = TestData.fashionMnist();
    FashionMnist data = FashionMnist.load(fm, true, N);
    long[] indices = new long[N];
    long[] labels = new long[N];
    for (int i = 0; i < N; i++) {
      indices[i] = i;
      labels[i] = data.labels()[i];
    }
    Path cacheFile = dir.resolve("fm-latents.safetensors");
    long dataSeed = 3;
    try (RecTok tok = new RecTok(TinyGen.tokenizer());
        Scope s = Scope.open()) {
      try (TorchGenerator g = TorchGenerator.cpu(1)) {
        tok.initWeights(g);
      }
      // A random tokenizer's posterior std is about 1, far above the spread of its means; a trained
      // one (KL weight 1e-6) is confident. Set logvar to -8 (std 0.018) via the latent head's bias.
      try (GradMode ng = GradMode.noGrad()) {
        tok.namedParameters().get("encoder.latent_head.bias").data().narrow(0, 8, 8).fill_(-8);
      }
      Tensor images = data.paddedImagesTensor(32);
      // docs/tokenizer.md#latent-statistics: per-channel mean and population std of the posterior
      // means over the data
      try (GradMode ng = GradMode.noGrad();
          RecTok.Encoding e = tok.encode(images.expand(-1, 3, -1, -1), false, null)) {
        Tensor z = e.zLatents().reshape(-1, 8);
        Tensor mean = z.mean(new long[] {0}, false);
        Tensor std = z.sub(mean).pow(2).mean(new long[] {0}, false).sqrt();
        tok.resetStats(mean, std);
      }
      LatentCache.build(
          cacheFile, tok, indices, ImageSource.ofTensor(images), 64, Device.CPU, DType.FLOAT32);
    }
    try (LatentCache cache = LatentCache.open(cacheFile, FlipRule.dataLoader(dataSeed));
        GeneratorTrainer t =
            new GeneratorTrainer(
                TinyGen.config().lr(3e-3).schedule(1000, 2000).build(), cache, Device.CPU);
        Scope s = Scope.open()) {
      Tensor probe;
      try (TorchGenerator g = TorchGenerator.cpu(5)) {
        probe =
            cache.latents(
                new Batch(Tensor.zeros(N, 3, 32, 32), Tensor.of(labels), indices, 0, 0),
                g,
                Device.CPU);
      }
      // normalized latents: about zero mean, unit variance (plus a little posterior noise)
      assertThat(Math.abs(probe.mean().item())).isLessThan(0.1);
      assertThat(probe.pow(2).mean().item()).isBetween(0.8, 1.3);
      double before = TinyGen.probeLoss(t.model(), probe, labels);
      int steps = 60;
      for (int k = 0; k < steps; k++) {
        try (Scope step = Scope.open()) {
          long[] idx = new long[B];
          long[] lab = new long[B];
          for (int i = 0; i < B; i++) {
            idx[i] = (k * B + i) % N;
            lab[i] = labels[(int) idx[i]];
          }
          int epoch = k * B / N;
          t.step(
              new Batch(Tensor.zeros(B, 3, 32, 32), Tensor.of(lab), idx, epoch, k),
              (double) k * B / N);
        }
      }
      double after = TinyGen.probeLoss(t.model(), probe, labels);
      System.out.printf(
          "Fashion-MNIST latents: probe loss %.4f -> %.4f after %d steps%n", before, after, steps);
      assertThat(after).isLessThan(0.9 * before);
      Path model = dir.resolve("fm-gen.safetensors");
      t.exportModel(model);
      try (DiTGenerator gen = DiTGenerator.open(model, null, Device.CPU)) {
        Latents out =
            gen.sample(
                new long[] {0, 1, 7},
                1,
                GenerateOptions.builder().gridPoints(10).build(),
                Progress.NONE);
        for (float v : out.values()) {
          assertThat(v).isFinite();
        }
      }
    }
  }
}
