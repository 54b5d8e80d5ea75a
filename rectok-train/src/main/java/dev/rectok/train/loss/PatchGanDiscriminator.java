package dev.rectok.train.loss;

import dev.rectok.torch.GradMode;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.Activation;
import dev.rectok.torch.nn.BatchNorm2d;
import dev.rectok.torch.nn.Conv2d;
import dev.rectok.torch.nn.Init;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.Sequential;
import dev.rectok.torch.nn.UnaryModule;
import java.nio.file.Path;

/**
 * The PatchGAN discriminator of taming-transformers ({@code NLayerDiscriminator},
 * docs/training.md#discriminator): {@code main} is an {@code nn.Sequential} of conv 4x4 stride 2
 * (bias) + LeakyReLU 0.2, then {@code nLayers − 1} blocks of conv 4x4 stride 2 (no bias) +
 * BatchNorm2d + LeakyReLU 0.2 with channels {@code ndf·min(2^n, 8)}, one more such block with
 * stride 1, and a final conv 4x4 stride 1 to one channel (bias); every conv has padding 1. Keys are
 * {@code main.N.*} exactly as taming's (ndf 64, 3 layers: convs at 0, 2, 5, 8, 11, BatchNorms at 3,
 * 6, 9). The output is a map of patch logits (B, 1, H', W').
 *
 * <p>Initialisation follows taming's {@code weights_init}: conv weights N(0, 0.02) (conv biases
 * keep PyTorch's default init), BatchNorm weights N(1, 0.02) and biases 0. The module is created in
 * training mode; as in the reference, keep it there (BatchNorm uses batch statistics and updates
 * its running ones on every forward).
 *
 * <p><b>Ownership and threading.</b> Owns its parameters and buffers. Training forwards mutate the
 * BatchNorm buffers: use from one thread at a time.
 */
public final class PatchGanDiscriminator extends UnaryModule {
  private final Sequential main;

  /** taming's defaults: 3 input channels, ndf 64, 3 layers. */
  public PatchGanDiscriminator(TorchGenerator gen) {
    this(3, 64, 3, gen);
  }

  /**
   * @param inChannels image channels
   * @param ndf channels of the first conv
   * @param nLayers number of strided/normalised blocks
   * @param gen source of the initial weights (null: LibTorch's default generator)
   */
  public PatchGanDiscriminator(long inChannels, long ndf, int nLayers, TorchGenerator gen) {
    Sequential seq = new Sequential(conv(inChannels, ndf, 2, true), Activation.leakyRelu(0.2));
    long mult = 1;
    for (int n = 1; n <= nLayers; n++) {
      long prev = mult;
      mult = Math.min(1L << n, 8);
      seq.add(conv(ndf * prev, ndf * mult, n < nLayers ? 2 : 1, false));
      seq.add(new BatchNorm2d(ndf * mult));
      seq.add(Activation.leakyRelu(0.2));
    }
    seq.add(conv(ndf * mult, 1, 1, true));
    main = registerModule("main", seq);
    initWeights(gen);
  }

  private static Conv2d conv(long in, long out, long stride, boolean bias) {
    return new Conv2d(
        in,
        out,
        new long[] {4, 4},
        new long[] {stride, stride},
        new long[] {1, 1},
        new long[] {1, 1},
        1,
        bias);
  }

  /** taming's {@code weights_init}, applied to every layer in order. */
  public void initWeights(TorchGenerator gen) {
    try (GradMode g = GradMode.noGrad()) {
      for (int i = 0; i < main.size(); i++) {
        Module m = main.get(i);
        if (m instanceof Conv2d c) {
          c.resetParameters(gen);
          Init.normal_(c.weight().data(), 0.0, 0.02, gen);
        } else if (m instanceof BatchNorm2d bn) {
          Init.normal_(bn.parameter("weight").data(), 1.0, 0.02, gen);
          Init.zeros_(bn.parameter("bias").data());
        }
      }
    }
  }

  /** The layers, {@code main.N}. */
  public Sequential main() {
    return main;
  }

  /** Loads every {@code main.*} key (BatchNorm running statistics included) from a file. */
  public PatchGanDiscriminator load(Path file) {
    WeightFiles.load(this, file, k -> k.startsWith("main.") ? k : null, k -> true);
    return this;
  }

  /** Patch logits (B, 1, H', W') of (B, C, H, W) images (the reference feeds [0, 1] images). */
  @Override
  public Tensor forward(Tensor images) {
    return main.forward(images);
  }
}
