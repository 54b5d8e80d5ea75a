package dev.rectok.torch.optim;

import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Parameter;
import java.util.List;
import java.util.Map;

/**
 * An optimizer over parameter groups. Owns its state tensors; close it to free them. Not
 * thread-safe: one training loop drives it.
 */
public interface Optimizer extends AutoCloseable {

  /** The groups, in order; their learning rates may be changed between steps. */
  List<ParamGroup> paramGroups();

  /** One update from the current gradients (parameters without a gradient are skipped). */
  void step();

  /** Drops every gradient ({@code zero_grad(set_to_none=True)}). */
  default void zeroGrad() {
    for (ParamGroup g : paramGroups()) {
      g.params().forEach(Parameter::zeroGrad);
    }
  }

  /**
   * The per-parameter state, for a training checkpoint: copies that the caller owns (they belong to
   * the current {@link dev.rectok.torch.Scope}, if one is open), keyed like PyTorch's {@code
   * state_dict()["state"]} flattened to {@code <index>.<field>}, where {@code index} counts
   * parameters across groups in order. Hyper-parameters and learning rates are not included (the
   * groups' learning rates are read through {@link #paramGroups()}).
   */
  Map<String, Tensor> exportState();

  /**
   * Restores state written by {@link #exportState()} of an optimizer built over parameters of the
   * same shapes. Everything is checked before anything is copied: a missing, unexpected or
   * mis-shaped entry throws {@link IllegalArgumentException} naming it and leaves the optimizer
   * unchanged. Values are copied (converting dtype and device); the caller keeps ownership.
   */
  void importState(Map<String, Tensor> state);

  /** Frees the optimizer state. */
  @Override
  void close();
}
