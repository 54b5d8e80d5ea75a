package dev.rectok.train.loss;

import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.UnaryModule;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * A {@link FeatureTeacher} backed by any module that maps preprocessed images to patch features:
 * {@code features = model(preprocess(images))}, computed under {@link GradMode#noGrad()} with the
 * model frozen and in eval mode. The preprocessing hook plays the role of the reference's
 * teacher-side transform (e.g. mapping [−1, 1] to the teacher's normalisation and resizing). A
 * model output of (B, D, h, w) is flattened to (B, h·w, D); (B, N, D) is returned as is.
 *
 * <p><b>Ownership.</b> The teacher owns the model and closes it in {@link #close}.
 * <b>Threading.</b> Concurrent {@link #features} calls are as safe as concurrent eval-mode forwards
 * of the model (safe for the SDK's modules).
 */
public final class ModuleTeacher implements FeatureTeacher {
  private final UnaryModule model;
  private final UnaryOperator<Tensor> preprocess;

  /**
   * @param model images → features; ownership moves here; it is frozen and put in eval mode
   * @param preprocess applied to the images first (its result may be owned by the current scope);
   *     {@link UnaryOperator#identity()} for none
   */
  public ModuleTeacher(UnaryModule model, UnaryOperator<Tensor> preprocess) {
    this.model = Objects.requireNonNull(model, "model");
    this.preprocess = Objects.requireNonNull(preprocess, "preprocess");
    model.requiresGrad_(false);
    model.eval();
  }

  /** The wrapped model (borrowed). */
  public UnaryModule model() {
    return model;
  }

  @Override
  public Tensor features(Tensor images, long[] sampleIndices) {
    try (Scope s = Scope.open();
        GradMode g = GradMode.noGrad()) {
      Tensor f = model.forward(preprocess.apply(images));
      if (f.dim() == 4) {
        f = f.flatten(2, 3).transpose(1, 2).contiguous();
      } else if (f.dim() != 3) {
        throw new IllegalStateException(
            "teacher output must be (B, N, D) or (B, D, h, w), got "
                + java.util.Arrays.toString(f.shape()));
      }
      return s.keep(f.detach());
    }
  }

  @Override
  public void close() {
    model.close();
  }
}
