package dev.rectok.train.teacher;

import dev.rectok.models.ModelFile;
import dev.rectok.models.tokenizer.Block;
import dev.rectok.models.tokenizer.TokenizerRope;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.torch.io.SafeTensorsFile;
import dev.rectok.torch.nn.Conv2d;
import dev.rectok.torch.nn.Init;
import dev.rectok.torch.nn.LayerNorm;
import dev.rectok.torch.nn.Linear;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.ModuleList;
import dev.rectok.torch.nn.StateDictLoader;
import dev.rectok.torch.nn.UnaryModule;
import dev.rectok.train.loss.FeatureTeacher;
import dev.rectok.train.loss.ModuleTeacher;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A small ViT classifier whose patch features stand in for DINOv3 in the offline demo
 * (docs/training.md#rad): {@code patch_embed} (Conv2d, kernel = stride = patch), a {@code
 * cls_token}, a learned {@code pos_embed} over [cls, patches], {@code blocks.i} pre-norm
 * transformer blocks (the tokenizer's {@link Block}: RMSNorm, attention with 2D RoPE on the patch
 * tokens and none on cls, SwiGLU), a final {@code norm} (LayerNorm) and a linear {@code head} on
 * the cls token. State-dict keys follow PyTorch ({@code patch_embed.weight}, {@code
 * blocks.0.attn.qkv.weight}, {@code norm.weight}, {@code head.weight}, ...).
 *
 * <p>{@link #forward} is {@link #patchFeatures}, so the model plugs into a {@link ModuleTeacher}
 * (see {@link #asFeatureTeacher()}).
 *
 * <p><b>Ownership.</b> The model owns its parameters and frees them in {@link #close()}; every
 * returned tensor belongs to the caller (or the current {@link Scope}); inputs stay the caller's.
 * <b>Threading.</b> As for every {@link Module}: build, load and train on one thread; concurrent
 * eval-mode forward passes are safe.
 */
public final class VitTeacher extends UnaryModule {
  /** The {@code rectok.kind} of a teacher model file. */
  public static final String KIND = "teacher";

  private final VitTeacherConfig config;
  private final Conv2d patchEmbed;
  private final Tensor clsToken;
  private final Tensor posEmbed;
  private final List<Block> blocks = new ArrayList<>();
  private final LayerNorm norm;
  private final Linear head;
  private final Tensor rope;

  /** A model initialised from {@code seed} ({@link #initWeights}). */
  public VitTeacher(VitTeacherConfig config, long seed) {
    this(config);
    try (TorchGenerator gen = TorchGenerator.cpu(seed)) {
      initWeights(gen);
    }
  }

  /** A model with placeholder weights, to be loaded or initialised. */
  private VitTeacher(VitTeacherConfig config) {
    this.config = java.util.Objects.requireNonNull(config, "config");
    int w = config.width();
    int p = config.patchSize();
    patchEmbed = registerModule("patch_embed", new Conv2d(config.inChannels(), w, p, p, 0));
    clsToken = registerParameter("cls_token", Tensor.zeros(1, 1, w)).data();
    posEmbed = registerParameter("pos_embed", Tensor.zeros(1, 1 + config.numPatches(), w)).data();
    ModuleList<Block> list = registerModule("blocks", new ModuleList<>());
    for (int i = 0; i < config.depth(); i++) {
      Block b = new Block(w, config.heads());
      list.add(b);
      blocks.add(b);
    }
    norm = registerModule("norm", new LayerNorm(w));
    head = registerModule("head", new Linear(w, config.numClasses(), true));
    rope = registerBuffer("rope", ropeTable(config), false);
  }

  /** [identity row for cls | 2D RoPE over the patch grid] as (1, 1 + N, 2·headDim). */
  private static Tensor ropeTable(VitTeacherConfig c) {
    int hd = c.headDim();
    try (Scope s = Scope.open()) {
      Tensor cls = Tensor.cat(new Tensor[] {Tensor.ones(1, hd), Tensor.zeros(1, hd)}, 1);
      Tensor grid = TokenizerRope.table(hd, c.gridSize(), c.gridSize());
      return s.keep(Tensor.cat(new Tensor[] {cls, grid}, 0).unsqueeze(0));
    }
  }

  /** The configuration. */
  public VitTeacherConfig config() {
    return config;
  }

  /**
   * ViT initialisation: Linear and Conv weights, {@code cls_token} and {@code pos_embed}
   * trunc-normal(0, 0.02) in [−2, 2], biases zero, norms one (weight) and zero (bias).
   */
  public void initWeights(TorchGenerator gen) {
    try (GradMode g = GradMode.noGrad()) {
      Init.truncNormal_(clsToken, 0, 0.02, -2, 2, gen);
      Init.truncNormal_(posEmbed, 0, 0.02, -2, 2, gen);
      Init.truncNormalLinearsAndConvs_(this, gen); // norms keep their ones / zeros
    }
  }

  /** All tokens after the final norm: (B, 1 + N, width), cls first. */
  private Tensor tokens(Tensor images) {
    long[] s = images.shape();
    if (s.length != 4
        || s[1] != config.inChannels()
        || s[2] != config.imgSize()
        || s[3] != config.imgSize()) {
      throw new IllegalArgumentException(
          "ViT teacher expects images (B, "
              + config.inChannels()
              + ", "
              + config.imgSize()
              + ", "
              + config.imgSize()
              + "), got "
              + Arrays.toString(s));
    }
    long b = s[0];
    try (Scope sc = Scope.open()) {
      Tensor x = patchEmbed.forward(images).flatten(2, 3).transpose(1, 2);
      Tensor cls = clsToken.expand(b, 1, config.width());
      x = Tensor.cat(new Tensor[] {cls, x}, 1).add(posEmbed);
      for (Block blk : blocks) {
        x = blk.forward(x, rope);
      }
      return sc.keep(norm.forward(x));
    }
  }

  /** Class logits (B, numClasses) from the cls token, for images (B, C, H, W) in [−1, 1]. */
  public Tensor logits(Tensor images) {
    try (Scope s = Scope.open()) {
      return s.keep(head.forward(tokens(images).select(1, 0)));
    }
  }

  /**
   * Patch features (B, N, width), N = {@code gridSize²} row-major: the final-norm hidden states of
   * the patch tokens with cls dropped (DINOv3's {@code last_hidden_state} without cls and register
   * tokens). Differentiable unless called under no-grad.
   */
  public Tensor patchFeatures(Tensor images) {
    try (Scope s = Scope.open()) {
      return s.keep(tokens(images).narrow(1, 1, config.numPatches()).contiguous());
    }
  }

  /** Mean of {@link #patchFeatures} over the patches: (B, width), e.g. for a domain FID. */
  public Tensor pooledFeatures(Tensor images) {
    try (Scope s = Scope.open()) {
      return s.keep(patchFeatures(images).mean(new long[] {1}, false));
    }
  }

  /** {@link #patchFeatures}. */
  @Override
  public Tensor forward(Tensor images) {
    return patchFeatures(images);
  }

  /**
   * Wraps this model as a frozen {@link FeatureTeacher} (a {@link ModuleTeacher} without
   * preprocessing: images are already (B, 3, H, W) in [−1, 1]). Ownership moves to the returned
   * teacher, which freezes this model, puts it in eval mode and closes it.
   */
  public FeatureTeacher asFeatureTeacher() {
    return new ModuleTeacher(this, UnaryOperator.identity());
  }

  /** Writes a self-describing model file ({@code rectok.kind} = {@value #KIND}), atomically. */
  public void save(Path file) throws IOException {
    ModelFile.write(file, KIND, config.toJson(), stateDict(), null, null);
  }

  /**
   * Loads a model file written by {@link #save}; the model is returned in eval mode and owned by
   * the caller.
   *
   * @throws CheckpointFormatException when the file is not a teacher model file or its weights do
   *     not fit its configuration
   */
  public static VitTeacher load(Path file) throws IOException {
    try (SafeTensorsFile f = ModelFile.open(file)) {
      ModelFile.Header h = ModelFile.header(f);
      if (!KIND.equals(h.kind())) {
        throw new CheckpointFormatException(file + " holds a " + h.kind() + ", not a " + KIND);
      }
      VitTeacherConfig cfg;
      try {
        cfg = VitTeacherConfig.fromJson(h.config());
      } catch (IllegalArgumentException e) {
        throw new CheckpointFormatException(file + ": " + e.getMessage(), e);
      }
      VitTeacher m = new VitTeacher(cfg);
      try {
        StateDictLoader.load(m, file, StateDictLoader.Policy.of("VitTeacher").strict());
      } catch (IllegalArgumentException e) {
        m.close();
        throw new CheckpointFormatException(file + ": " + e.getMessage(), e);
      } catch (RuntimeException e) {
        m.close();
        throw e;
      }
      m.eval();
      return m;
    }
  }
}
