package dev.rectok.train.loss;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Activation;
import dev.rectok.torch.nn.Conv2d;
import dev.rectok.torch.nn.MaxPool2x2;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.Sequential;
import java.nio.file.Path;

/**
 * The convolutional trunk of torchvision's {@code vgg16} up to {@code relu5_3}: {@code features} is
 * the same {@code nn.Sequential} of 30 layers (indices 0..29), so the state-dict keys are
 * torchvision's {@code features.N.weight} / {@code features.N.bias} for the thirteen 3x3
 * convolutions at N = 0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28 (ReLUs and 2x2 max pools sit
 * at the other indices and have no weights). {@link #taps} returns the five activations LPIPS
 * compares: relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 (indices 3, 8, 15, 22, 29).
 *
 * <p><b>Ownership and threading.</b> The module owns its parameters (see {@link Module}).
 * Concurrent {@link #taps} calls are safe once loading is done.
 */
public final class Vgg16Features extends Module {
  /** Output channels of each of the 13 convolutions, in order. */
  static final long[] CHANNELS = {64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512};

  /** Channels of the five taps. */
  public static final long[] TAP_CHANNELS = {64, 128, 256, 512, 512};

  /** {@code features} indices of the tapped ReLUs. */
  private static final int[] TAP_INDEX = {3, 8, 15, 22, 29};

  private static final int[] BLOCK_SIZES = {2, 2, 3, 3, 3};

  private final Sequential features;

  /** Randomly initialised (PyTorch's default conv init); load real weights with {@link #load}. */
  public Vgg16Features() {
    Sequential seq = new Sequential();
    long in = 3;
    int c = 0;
    for (int b = 0; b < BLOCK_SIZES.length; b++) {
      if (b > 0) {
        seq.add(new MaxPool2x2());
      }
      for (int j = 0; j < BLOCK_SIZES[b]; j++) {
        seq.add(new Conv2d(in, CHANNELS[c], 3, 1, 1));
        seq.add(Activation.relu());
        in = CHANNELS[c++];
      }
    }
    features = registerModule("features", seq);
  }

  /** Loads the {@code features.*} keys of a torchvision {@code vgg16} safetensors or .pth file. */
  public Vgg16Features load(Path file) {
    WeightFiles.load(this, file, k -> k.startsWith("features."));
    return this;
  }

  /**
   * The five ReLU activations relu1_2 .. relu5_3 of an (B, 3, H, W) input (H, W at least 16); each
   * is owned by the caller (or the enclosing scope).
   */
  public Tensor[] taps(Tensor x) {
    Tensor[] out = new Tensor[TAP_INDEX.length];
    try (Scope s = Scope.open()) {
      Tensor h = x;
      int t = 0;
      for (int i = 0; i <= TAP_INDEX[TAP_INDEX.length - 1]; i++) {
        h = features.get(i).forward(h);
        if (i == TAP_INDEX[t]) {
          out[t++] = s.keep(h);
        }
      }
    }
    return out;
  }
}
