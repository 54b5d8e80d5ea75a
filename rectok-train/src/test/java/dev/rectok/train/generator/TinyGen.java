package dev.rectok.train.generator;

import dev.rectok.api.Device;
import dev.rectok.generate.transport.TrainingBatch;
import dev.rectok.models.dit.DiTConfig;
import dev.rectok.models.dit.DiTwDDTHead;
import dev.rectok.models.tokenizer.RecTokConfig;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.train.loop.Batch;

/** Tiny configurations and fixed data shared by the generator-trainer tests. */
final class TinyGen {
  private TinyGen() {}

  /** A 32×32 image with tokenizer patch 4: 8×8 latents of 8 channels, 10 classes, 2+1 blocks. */
  static DiTConfig dit() {
    return DiTConfig.builder()
        .imgSize(32)
        .tokenizerPatchSize(4)
        .tokenChannels(8)
        .hiddenSize(32, 48)
        .depth(2, 1)
        .numHeads(2, 2)
        .numClasses(10)
        .build();
  }

  /**
   * A smaller AutoGuidance companion of {@link #dit()}: same latents, narrower s-path, one block
   * each.
   */
  static DiTConfig guideDit() {
    return dit().toBuilder().hiddenSize(16, 16).depth(1, 1).numHeads(1, 1).build();
  }

  /** A tiny random tokenizer: 32×32 images, patch 4, 8 channels (8×8 latents). */
  static RecTokConfig tokenizer() {
    return RecTokConfig.builder()
        .encoderDecoder(new RecTokConfig.ModelSize(24, 1, 2), new RecTokConfig.ModelSize(16, 1, 1))
        .imgSize(32)
        .patchSize(4)
        .tokenChannels(8)
        .build();
  }

  /** A short-run config: constant lr then decay over 10 epochs. */
  static GeneratorTrainingConfig.Builder config() {
    return GeneratorTrainingConfig.builder(dit())
        .lr(1e-3)
        .minLr(1e-4)
        .schedule(2, 10)
        .batchSize(8)
        .epochs(10)
        .seed(7);
  }

  /** A batch with dummy images (the fixed source ignores them), the given labels and indices. */
  static Batch batch(long[] indices, long[] labels, int epoch) {
    return new Batch(Tensor.zeros(indices.length, 3, 32, 32), Tensor.of(labels), indices, epoch, 0);
  }

  /** Batch {@code k}: indices k·b .. k·b + b − 1 modulo n, labels index mod 10. */
  static Batch batch(int k, int b, int n) {
    long[] idx = new long[b];
    long[] lab = new long[b];
    for (int i = 0; i < b; i++) {
      idx[i] = ((long) k * b + i) % n;
      lab[i] = idx[i] % 10;
    }
    return batch(idx, lab, 0);
  }

  /**
   * The flow-matching loss of {@code net} on data {@code x1} (borrowed) with {@code labels},
   * averaged over 8 fixed draws of noise and times; no grad. A probe that does not depend on
   * training noise.
   */
  static double probeLoss(DiTwDDTHead net, Tensor x1, long[] labels) {
    try (Scope s = Scope.open();
        GradMode g = GradMode.noGrad();
        TorchGenerator gen = TorchGenerator.cpu(99)) {
      double total = 0;
      for (int r = 0; r < 8; r++) {
        TrainingBatch tb = TrainingBatch.draw(x1, net.config().timeDistShift(), gen);
        total += tb.loss(net.forward(tb.xt(), tb.t(), Tensor.of(labels))).item();
      }
      return total / 8;
    }
  }

  /**
   * A {@link LatentSource} over fixed latents (n, 8, 8, 8): row i is a class-dependent pattern plus
   * noise, so there is something to learn. Returns rows by index, ignoring the posterior generator.
   * Owns its tensor.
   */
  static final class FixedLatents implements LatentSource {
    final Tensor all;

    FixedLatents(int n, long seed) {
      try (Scope s = Scope.open();
          TorchGenerator g = TorchGenerator.cpu(seed)) {
        Tensor proto = Tensor.randn(g, 10, 8, 8, 8);
        long[] cls = new long[n];
        for (int i = 0; i < n; i++) {
          cls[i] = i % 10;
        }
        all =
            s.keep(proto.indexSelect(0, Tensor.of(cls)).add(Tensor.randn(g, n, 8, 8, 8).mul(0.1)));
      }
    }

    @Override
    public int channels() {
      return 8;
    }

    @Override
    public int gridSize() {
      return 8;
    }

    @Override
    public Tensor latents(Batch batch, TorchGenerator gen, Device device) {
      try (Scope s = Scope.open()) {
        return s.keep(all.indexSelect(0, Tensor.of(batch.indices())).to(device));
      }
    }

    @Override
    public void close() {
      all.close();
    }
  }
}
