package dev.rectok.train.loss;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Conv2d;
import dev.rectok.torch.nn.Identity;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.ModuleDict;
import dev.rectok.torch.nn.Sequential;
import java.nio.file.Path;

/**
 * LPIPS with a VGG16 trunk (Zhang et al., the variant taming-transformers and RecTok use): the
 * inputs, in [−1, 1], are shifted and scaled by the ScalingLayer constants (shift (−0.030, −0.088,
 * −0.188), scale (0.458, 0.448, 0.450)); the five VGG16 taps relu1_2..relu5_3 of both images are
 * normalised over channels ({@code x / (‖x‖₂ + 1e−10)}); their squared difference goes through a
 * 1x1 convolution without bias ({@code lin0..lin4.model.1.weight}, shape (1, C, 1, 1); {@code
 * model.0} is the eval-mode dropout), is averaged over space, and the five results are summed: one
 * distance per sample, shape (B, 1, 1, 1).
 *
 * <p>State-dict keys: {@code net.features.N.*} (the VGG16 trunk) and {@code linK.model.1.weight}.
 * {@link #load} reads torchvision's {@code features.N.*} names from a vgg16 file and the LPIPS head
 * names from the LPIPS {@code vgg.pth} (both may be the same file).
 *
 * <p>The network is frozen and always in eval mode ({@link #train} is ignored): no gradient reaches
 * its parameters, but the distance is differentiable with respect to both inputs.
 *
 * <p><b>Ownership and threading.</b> Owns its parameters. After loading, concurrent {@link
 * #forward} calls are safe; results belong to the caller (or the current scope).
 */
public final class LPIPS extends Module {
  private static final double[] SHIFT = {-0.030, -0.088, -0.188};
  private static final double[] SCALE = {0.458, 0.448, 0.450};
  private static final double EPS = 1e-10;

  private final Vgg16Features net;
  private final Conv2d[] lins = new Conv2d[5];

  /** Random weights (PyTorch's default conv init), frozen; use {@link #load} for real ones. */
  public LPIPS() {
    net = registerModule("net", new Vgg16Features());
    for (int k = 0; k < lins.length; k++) {
      ModuleDict<Module> lin = new ModuleDict<>();
      Sequential model =
          new Sequential(
              new Identity(),
              new Conv2d(
                  Vgg16Features.TAP_CHANNELS[k],
                  1,
                  new long[] {1, 1},
                  new long[] {1, 1},
                  new long[] {0, 0},
                  new long[] {1, 1},
                  1,
                  false));
      lin.put("model", model);
      lins[k] = (Conv2d) model.get(1);
      registerModule("lin" + k, lin);
    }
    registerBuffer("shift", Tensor.of(SHIFT, 1, 3, 1, 1).to(dev.rectok.api.DType.FLOAT32), false);
    registerBuffer("scale", Tensor.of(SCALE, 1, 3, 1, 1).to(dev.rectok.api.DType.FLOAT32), false);
    requiresGrad_(false);
    super.train(false);
  }

  /**
   * Loads the VGG16 trunk from {@code vggFile} (torchvision keys {@code features.N.weight/bias})
   * and the heads from {@code linFile} (keys {@code lin0.model.1.weight} .. {@code lin4...});
   * safetensors or .pth. Other keys in the files are ignored; missing ones throw.
   */
  public LPIPS load(Path vggFile, Path linFile) {
    WeightFiles.load(
        this,
        vggFile,
        k -> k.startsWith("features.") ? "net." + k : null,
        k -> k.startsWith("net."));
    WeightFiles.load(
        this,
        linFile,
        k -> k.matches("lin[0-4]\\.model\\.1\\.weight") ? k : null,
        k -> k.startsWith("lin"));
    return this;
  }

  /** The VGG16 trunk. */
  public Vgg16Features net() {
    return net;
  }

  /** Stays in eval mode whatever is asked, as the reference keeps its perceptual module. */
  @Override
  public Module train(boolean mode) {
    return super.train(false);
  }

  /** Per-sample distance (B, 1, 1, 1) between two (B, 3, H, W) batches in [−1, 1] (H, W ≥ 16). */
  public Tensor forward(Tensor x, Tensor y) {
    try (Scope s = Scope.open()) {
      Tensor shift = buffer("shift").to(x.dtype(), x.device());
      Tensor scale = buffer("scale").to(x.dtype(), x.device());
      Tensor[] fx = net.taps(x.sub(shift).div(scale));
      Tensor[] fy = net.taps(y.sub(shift).div(scale));
      Tensor total = null;
      for (int k = 0; k < fx.length; k++) {
        Tensor d = normalize(fx[k]).sub(normalize(fy[k])).pow(2);
        Tensor v = lins[k].forward(d).mean(new long[] {2, 3}, true);
        total = total == null ? v : total.add(v);
      }
      return s.keep(total);
    }
  }

  /** The batch mean of {@link #forward}: a scalar. */
  public Tensor loss(Tensor x, Tensor y) {
    try (Scope s = Scope.open()) {
      return s.keep(forward(x, y).mean());
    }
  }

  private static Tensor normalize(Tensor f) {
    Tensor norm = f.pow(2).sum(new long[] {1}, true).sqrt();
    return f.div(norm.add(EPS));
  }
}
