package dev.rectok.train.teacher;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.models.dinov3.DinoV3;
import dev.rectok.models.dinov3.DinoV3Weights;
import dev.rectok.models.dinov3.TeacherImagePath;
import dev.rectok.torch.Autocast;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.train.loss.FeatureTeacher;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * RecTok's real teacher: a frozen DINOv3 behind the reference's image path ({@link
 * TeacherImagePath}): [−1, 1] images → uint8 → processor (224, ImageNet normalisation) → bilinear
 * up to the target size → DINOv3 → final-LayerNorm patch tokens (B, h·w, D).
 *
 * <p>The target size is the images' size (the reference: 256 → a 16×16 grid of the ViT-L/16,
 * matching the tokenizer's 16×16 tokens) unless {@link #tokenGrid} sets a token grid, in which case
 * it is {@code grid × patch} so the teacher yields exactly one feature per tokenizer token at any
 * image size. With {@link #autocast} the forward runs under autocast (the reference runs the
 * teacher under bf16 autocast on GPU); the path itself stays float32.
 *
 * <p><b>Ownership.</b> Owns the model and closes it in {@link #close}. Returned features are
 * float32 tensors without grad, owned by the caller. <b>Threading.</b> Configure ({@link
 * #tokenGrid}, {@link #autocast}) before the first {@link #features} call; after that concurrent
 * calls are safe.
 */
public final class DinoV3Teacher implements FeatureTeacher {
  private final DinoV3 model;
  private volatile int[] tokenGrid;
  private volatile DType autocast;

  /** Wraps a model (ownership moves here); it stays frozen and in eval mode. */
  public DinoV3Teacher(DinoV3 model) {
    this.model = Objects.requireNonNull(model, "model");
    model.requiresGrad_(false);
    model.eval();
  }

  /**
   * Loads DINOv3 weights in any layout {@link DinoV3Weights#load} reads (official {@code .pth},
   * transformers {@code model.safetensors}, or a teacher model file) onto {@code device}.
   */
  public static DinoV3Teacher load(Path file, Device device) throws IOException {
    DinoV3 m = DinoV3Weights.load(file, null);
    if (device != null && device.isCuda()) {
      m.to(null, device);
    }
    return new DinoV3Teacher(m);
  }

  /** The wrapped model (borrowed). */
  public DinoV3 model() {
    return model;
  }

  /** Feature width D. */
  public int width() {
    return model.config().embedDim();
  }

  /**
   * Makes the teacher yield an {@code h × w} grid of features whatever the image size; returns
   * this.
   */
  public DinoV3Teacher tokenGrid(int h, int w) {
    if (h <= 0 || w <= 0) {
      throw new IllegalArgumentException("token grid must be positive, got " + h + "x" + w);
    }
    this.tokenGrid = new int[] {h, w};
    return this;
  }

  /** Runs the model under autocast to {@code dtype} (null: float32); returns this. */
  public DinoV3Teacher autocast(DType dtype) {
    this.autocast = dtype;
    return this;
  }

  /** The teacher's pixel values for a batch: the image path at the target size. */
  public Tensor pixelValues(Tensor images) {
    int[] g = tokenGrid;
    int p = model.config().patchSize();
    long h = g == null ? images.size(2) : (long) g[0] * p;
    long w = g == null ? images.size(3) : (long) g[1] * p;
    return TeacherImagePath.pixelValues(images, h, w);
  }

  @Override
  public Tensor features(Tensor images, long[] sampleIndices) {
    // no-grad, never inference mode: see DinoV3#forwardFeatures
    try (Scope s = Scope.open();
        GradMode g = GradMode.noGrad();
        Autocast a = autocast == null ? null : Autocast.enable(images.device(), autocast)) {
      return s.keep(model.patchFeatures(pixelValues(images)).to(DType.FLOAT32));
    }
  }

  @Override
  public void close() {
    model.close();
  }
}
