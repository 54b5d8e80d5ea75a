package dev.rectok.torch.optim;

import dev.rectok.torch.nn.Parameter;
import java.util.List;

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

  /** Frees the optimizer state. */
  @Override
  void close();
}
