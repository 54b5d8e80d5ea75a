package dev.rectok.train.loss;

import dev.rectok.torch.F;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Conv2d;
import dev.rectok.torch.nn.Identity;
import dev.rectok.torch.nn.LayerNorm;
import dev.rectok.torch.nn.Linear;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.ModuleDict;
import dev.rectok.torch.nn.Sequential;
import dev.rectok.torch.nn.UnaryModule;
import java.nio.file.Path;

/**
 * torchvision's {@code ConvNeXt} image classifier (inference only: stochastic depth is off), with
 * torchvision's state-dict keys: stem {@code features.0.0} (conv 4x4 stride 4) and {@code
 * features.0.1} (LayerNorm2d); stage i at {@code features.(2i+1).j} with {@code layer_scale} (C, 1,
 * 1) and {@code block.0} (depthwise 7x7 conv), {@code block.2} (LayerNorm), {@code block.3} /
 * {@code block.5} (Linear C→4C→C, GELU between); downsampling at {@code features.(2i+2).0}
 * (LayerNorm2d) and {@code .1} (conv 2x2 stride 2); head {@code classifier.0} (LayerNorm2d after
 * global average pooling) and {@code classifier.2} (Linear). All LayerNorms use eps 1e−6. {@link
 * #small} is {@code convnext_small}.
 *
 * <p><b>Ownership and threading.</b> Owns its parameters; concurrent eval-mode forwards are safe
 * once loading is done.
 */
public final class ConvNeXt extends UnaryModule {
  private final Sequential features;
  private final Sequential classifier;

  /**
   * @param depths blocks per stage
   * @param dims channels per stage
   * @param numClasses classifier outputs
   */
  public ConvNeXt(int[] depths, long[] dims, long numClasses) {
    if (depths.length != dims.length || depths.length == 0) {
      throw new IllegalArgumentException("depths and dims must have the same, non-zero length");
    }
    Sequential f =
        new Sequential(new Sequential(new Conv2d(3, dims[0], 4, 4, 0), new LayerNorm2d(dims[0])));
    for (int i = 0; i < depths.length; i++) {
      Sequential stage = new Sequential();
      for (int j = 0; j < depths[i]; j++) {
        stage.add(new Block(dims[i]));
      }
      f.add(stage);
      if (i + 1 < depths.length) {
        f.add(new Sequential(new LayerNorm2d(dims[i]), new Conv2d(dims[i], dims[i + 1], 2, 2, 0)));
      }
    }
    features = registerModule("features", f);
    long last = dims[dims.length - 1];
    classifier =
        registerModule(
            "classifier",
            new Sequential(
                new LayerNorm2d(last), new Identity(), new Linear(last, numClasses, true)));
  }

  /**
   * torchvision {@code convnext_small}: depths (3, 3, 27, 3), dims (96, 192, 384, 768), 1000
   * classes.
   */
  public static ConvNeXt small() {
    return new ConvNeXt(new int[] {3, 3, 27, 3}, new long[] {96, 192, 384, 768}, 1000);
  }

  /** Loads every key of a torchvision ConvNeXt safetensors or .pth file (strict). */
  public ConvNeXt load(Path file) {
    WeightFiles.load(this, file, k -> true);
    return this;
  }

  /** Logits (B, numClasses) of ImageNet-normalised (B, 3, H, W) images. */
  @Override
  public Tensor forward(Tensor input) {
    try (Scope s = Scope.open()) {
      Tensor h = features.forward(input);
      h = F.adaptiveAvgPool2d(h, 1, 1);
      h = classifier.get(0).forward(h).flatten(1, -1);
      return s.keep(classifier.get(2).forward(h));
    }
  }

  /** torchvision's {@code LayerNorm2d}: LayerNorm over channels of an NCHW tensor. */
  static final class LayerNorm2d extends UnaryModule {
    LayerNorm2d(long channels) {
      registerParameter("weight", Tensor.ones(channels));
      registerParameter("bias", Tensor.zeros(channels));
    }

    @Override
    public Tensor forward(Tensor input) {
      try (Scope s = Scope.open()) {
        Tensor x = input.permute(0, 2, 3, 1);
        Tensor y =
            F.layerNorm(
                x,
                new long[] {input.size(1)},
                parameter("weight").data(),
                parameter("bias").data(),
                1e-6);
        return s.keep(y.permute(0, 3, 1, 2));
      }
    }
  }

  /** torchvision's {@code CNBlock} without stochastic depth (inference). */
  static final class Block extends UnaryModule {
    private final Conv2d dw;
    private final LayerNorm ln;
    private final Linear fc1;
    private final Linear fc2;

    Block(long dim) {
      registerParameter(
          "layer_scale",
          Tensor.full(
              new long[] {dim, 1, 1},
              1e-6,
              dev.rectok.api.DType.FLOAT32,
              dev.rectok.api.Device.CPU));
      ModuleDict<Module> block = new ModuleDict<>();
      dw =
          block.put(
              "0",
              new Conv2d(
                  dim,
                  dim,
                  new long[] {7, 7},
                  new long[] {1, 1},
                  new long[] {3, 3},
                  new long[] {1, 1},
                  dim,
                  true));
      ln = block.put("2", new LayerNorm(new long[] {dim}, 1e-6, true));
      fc1 = block.put("3", new Linear(dim, 4 * dim, true));
      fc2 = block.put("5", new Linear(4 * dim, dim, true));
      registerModule("block", block);
    }

    @Override
    public Tensor forward(Tensor input) {
      try (Scope s = Scope.open()) {
        Tensor h = dw.forward(input).permute(0, 2, 3, 1);
        h = fc2.forward(F.gelu(fc1.forward(ln.forward(h)), false)).permute(0, 3, 1, 2);
        return s.keep(h.mul(parameter("layer_scale").data()).add(input));
      }
    }
  }
}
