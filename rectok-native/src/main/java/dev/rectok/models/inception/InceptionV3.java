package dev.rectok.models.inception;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.Autocast;
import dev.rectok.torch.F;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Linear;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.UnaryModule;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * torch-fidelity's {@code FeatureExtractorInceptionV3}, the network behind FID, IS and
 * precision/recall as RecTok and torch-fidelity report them (see {@code docs/evaluation.md}): uint8
 * images of any size are resized to 299×299 with TensorFlow 1.x's bilinear rule ({@link
 * Tf1Resize}), mapped by {@code (x − 128) / 128}, then the TF-compatible InceptionV3 ({@code
 * BasicConv2d} = bias-free conv + BatchNorm(eps 0.001) + ReLU; average pools that do not count
 * padding; a max pool in the last block). The parameter names are torch-fidelity's (and
 * pytorch-fid's), so their weight files load as they are ({@link InceptionWeights}).
 *
 * <p>It always runs in float32 (or float64 if converted with {@link #to}), in eval mode and without
 * autocast, whatever the rest of the application does, so the features do not depend on the
 * generator's precision.
 *
 * <p><b>Ownership and threading.</b> The module owns its parameters; close it. After loading,
 * concurrent {@link #features} calls from several threads are safe (each call owns its
 * intermediates); loading and {@link #to} are single-threaded.
 */
public final class InceptionV3 extends Module {
  /** The side the images are resized to. */
  public static final int INPUT_SIZE = 299;

  /** Classes of the 2015 TensorFlow graph's classifier (1000 + 8 unused). */
  public static final int NUM_CLASSES = 1008;

  /** Channels of TF's {@code mixed_6/conv} the ADM evaluator keeps for sFID. */
  public static final int SPATIAL_CHANNELS = 7;

  /** The features torch-fidelity provides (and ADM's spatial one), in network order. */
  public enum Feature {
    /** Mean of the 64 channels after the first max pool. */
    F64("64", 64),
    /** Mean of the 192 channels after the second max pool. */
    F192("192", 192),
    /**
     * The ADM evaluator's sFID feature, TF's {@code mixed_6/conv}: Mixed_6d's {@code branch1x1}
     * output (after BatchNorm and ReLU), its first 7 channels flattened in TF's (H, W, C) order,
     * 7·17·17 = 2023 values (see {@code docs/evaluation.md}, "sFID").
     */
    SPATIAL("mixed_6/conv", SPATIAL_CHANNELS * 17 * 17),
    /** Mean of the 768 channels after Mixed_6e. */
    F768("768", 768),
    /** The 2048-d pool features (FID, KID, precision/recall). */
    F2048("2048", 2048),
    /** {@code pool · fcᵀ} without the bias (Inception Score). */
    LOGITS_UNBIASED("logits_unbiased", NUM_CLASSES),
    /** {@code pool · fcᵀ + bias}. */
    LOGITS("logits", NUM_CLASSES);

    private final String key;
    private final int dim;

    Feature(String key, int dim) {
      this.key = key;
      this.dim = dim;
    }

    /** torch-fidelity's name of the feature. */
    public String key() {
      return key;
    }

    /** Its width. */
    public int dim() {
      return dim;
    }

    /**
     * The feature named {@code key} by torch-fidelity; an exception listing the names otherwise.
     */
    public static Feature of(String key) {
      for (Feature f : values()) {
        if (f.key.equals(key)) {
          return f;
        }
      }
      throw new IllegalArgumentException(
          "unknown Inception feature '"
              + key
              + "' (allowed: 64, 192, mixed_6/conv, 768, 2048, logits_unbiased, logits)");
    }
  }

  private final BasicConv2d c1a, c2a, c2b, c3b, c4a;
  private final UnaryModule m5b, m5c, m5d, m6a, m6b, m6c, m6d, m6e, m7a, m7b, m7c;
  private final Linear fc;
  private DType dtype = DType.FLOAT32;
  private Device device = Device.CPU;

  /** The network with PyTorch's default initialisation; load weights before use. */
  public InceptionV3() {
    c1a = registerModule("Conv2d_1a_3x3", new BasicConv2d(3, 32, 3, 3, 2, 0, 0));
    c2a = registerModule("Conv2d_2a_3x3", new BasicConv2d(32, 32, 3));
    c2b = registerModule("Conv2d_2b_3x3", new BasicConv2d(32, 64, 3, 3, 1, 1, 1));
    c3b = registerModule("Conv2d_3b_1x1", new BasicConv2d(64, 80, 1));
    c4a = registerModule("Conv2d_4a_3x3", new BasicConv2d(80, 192, 3));
    m5b = registerModule("Mixed_5b", new InceptionBlocks.A(192, 32));
    m5c = registerModule("Mixed_5c", new InceptionBlocks.A(256, 64));
    m5d = registerModule("Mixed_5d", new InceptionBlocks.A(288, 64));
    m6a = registerModule("Mixed_6a", new InceptionBlocks.B(288));
    m6b = registerModule("Mixed_6b", new InceptionBlocks.C(768, 128));
    m6c = registerModule("Mixed_6c", new InceptionBlocks.C(768, 160));
    m6d = registerModule("Mixed_6d", new InceptionBlocks.C(768, 160));
    m6e = registerModule("Mixed_6e", new InceptionBlocks.C(768, 192));
    m7a = registerModule("Mixed_7a", new InceptionBlocks.D(768));
    m7b = registerModule("Mixed_7b", new InceptionBlocks.E(1280, false));
    m7c = registerModule("Mixed_7c", new InceptionBlocks.E(2048, true));
    fc = registerModule("fc", new Linear(2048, NUM_CLASSES, true));
    requiresGrad_(false);
    eval();
  }

  /** Moves the weights; {@code dtype} must be float32 (torch-fidelity's default) or float64. */
  @Override
  public InceptionV3 to(DType dtype, Device device) {
    if (dtype != DType.FLOAT32 && dtype != DType.FLOAT64) {
      throw new IllegalArgumentException(
          "the Inception network runs in float32 or float64, not " + dtype);
    }
    super.to(dtype, device);
    this.dtype = dtype;
    this.device = device;
    return this;
  }

  /** The internal dtype (float32 unless changed). */
  public DType dtype() {
    return dtype;
  }

  /** The device the weights are on. */
  public Device device() {
    return device;
  }

  /**
   * Features of a batch of uint8 images (N, 3, H, W), any H, W ≥ 1, on any device: every requested
   * feature as a float32 (N, D) tensor owned by the caller (or the enclosing scope). The network
   * stops after the last requested feature, as torch-fidelity does.
   *
   * @throws IllegalArgumentException when the images are not uint8 (N, 3, H, W)
   */
  public Map<Feature, Tensor> features(Tensor images, Set<Feature> wanted) {
    Objects.requireNonNull(images, "images");
    if (images.dtype() != DType.UINT8
        || images.dim() != 4
        || images.size(1) != 3
        || images.size(0) < 1) {
      throw new IllegalArgumentException(
          "the Inception network takes uint8 images (N, 3, H, W), got "
              + images.dtype()
              + " "
              + java.util.Arrays.toString(images.shape()));
    }
    if (wanted.isEmpty()) {
      throw new IllegalArgumentException("no feature requested");
    }
    EnumSet<Feature> left = EnumSet.copyOf(wanted);
    Map<Feature, Tensor> out = new LinkedHashMap<>();
    try (Scope s = Scope.open();
        GradMode g = GradMode.inferenceMode();
        Autocast off = Autocast.disable()) {
      Tensor x = Tf1Resize.toTensor(images, INPUT_SIZE, INPUT_SIZE, dtype).to(device);
      x = x.sub(128.0).div(128.0);
      x = c2b.forward(c2a.forward(c1a.forward(x)));
      x = InceptionBlocks.maxPool3s2(x);
      if (take(out, left, Feature.F64, pooled(x), s)) {
        return out;
      }
      x = InceptionBlocks.maxPool3s2(c4a.forward(c3b.forward(x)));
      if (take(out, left, Feature.F192, pooled(x), s)) {
        return out;
      }
      for (UnaryModule m : new UnaryModule[] {m5b, m5c, m5d, m6a, m6b, m6c, m6d, m6e}) {
        if (m == m6d && left.contains(Feature.SPATIAL)) {
          // the branch is recomputed here (a 1x1 convolution, under 1% of the network) so the
          // block's forward and every other feature stay exactly as they were
          Tensor sp =
              ((InceptionBlocks.C) m6d)
                  .branch1x1(x)
                  .narrow(1, 0, SPATIAL_CHANNELS)
                  .permute(0, 2, 3, 1)
                  .flatten(1, -1);
          if (take(out, left, Feature.SPATIAL, sp, s)) {
            return out;
          }
        }
        x = m.forward(x);
      }
      if (take(out, left, Feature.F768, pooled(x), s)) {
        return out;
      }
      x = m7c.forward(m7b.forward(m7a.forward(x)));
      x = pooled(x);
      if (take(out, left, Feature.F2048, x, s)) {
        return out;
      }
      x = x.matmul(fc.weight().data().transpose(0, 1));
      if (take(out, left, Feature.LOGITS_UNBIASED, x, s)) {
        return out;
      }
      x = x.add(fc.bias().data().unsqueeze(0));
      take(out, left, Feature.LOGITS, x, s);
      return out;
    }
  }

  private static Tensor pooled(Tensor x) {
    return F.adaptiveAvgPool2d(x, 1, 1).flatten(1, -1);
  }

  // Records a requested feature as float32 (kept past the scope); true when nothing is left.
  private static boolean take(
      Map<Feature, Tensor> out, EnumSet<Feature> left, Feature f, Tensor x, Scope s) {
    if (left.remove(f)) {
      out.put(f, s.keep(x.to(DType.FLOAT32).contiguous().clone()));
    }
    return left.isEmpty();
  }
}
