package dev.rectok.torch.nn;

import dev.rectok.torch.Tensor;

/**
 * A module whose forward pass maps one tensor to one tensor; what {@link Sequential} chains.
 * Threading and ownership as for {@link Module}.
 */
public abstract class UnaryModule extends Module {

  /** The forward pass; the result is owned by the caller (or the current scope). */
  public abstract Tensor forward(Tensor input);
}
