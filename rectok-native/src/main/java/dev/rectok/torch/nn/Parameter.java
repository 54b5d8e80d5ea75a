package dev.rectok.torch.nn;

import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.util.Objects;

/**
 * A learnable tensor of a {@link Module} ({@code nn.Parameter}): a leaf that requires grad unless
 * frozen. The parameter owns its tensor; the module owns the parameter and closes it. Optimizers
 * refer to the parameter, so {@link #set} can replace the tensor (e.g. moving it to another device)
 * without breaking them.
 *
 * <p>Not thread-safe for mutation; concurrent forward passes that only read it are fine.
 */
public final class Parameter implements AutoCloseable {
  private Tensor data;
  private boolean requiresGrad;

  /** Takes ownership of {@code data} (it is removed from any open {@link Scope}). */
  public Parameter(Tensor data, boolean requiresGrad) {
    this.data = Objects.requireNonNull(data, "data").escape();
    this.requiresGrad = requiresGrad;
    data.requiresGrad_(requiresGrad);
  }

  /** The tensor, owned by this parameter: do not close it. */
  public Tensor data() {
    return data;
  }

  /** Whether the optimizer trains it. */
  public boolean requiresGrad() {
    return requiresGrad;
  }

  /** Freezes or unfreezes the parameter ({@code requires_grad_}). */
  public Parameter requiresGrad_(boolean value) {
    requiresGrad = value;
    data.requiresGrad_(value);
    return this;
  }

  /** The gradient (a new handle the caller closes), or null. */
  public Tensor grad() {
    return data.grad();
  }

  /** Drops the gradient ({@code zero_grad(set_to_none=True)}). */
  public void zeroGrad() {
    data.setGrad(null);
  }

  /**
   * Copies {@code value} into the parameter without autograd (shape must match; dtype converts).
   */
  public void copyFrom(Tensor value) {
    try (GradMode g = GradMode.noGrad()) {
      data.copy_(value);
    }
  }

  /** Replaces the tensor by {@code replacement} (ownership moves here; the old one is closed). */
  public void set(Tensor replacement) {
    Tensor old = data;
    data = replacement.escape();
    data.requiresGrad_(requiresGrad);
    if (old != replacement) {
      old.close();
    }
  }

  /** Shape of the tensor. */
  public long[] shape() {
    return data.shape();
  }

  /** Number of elements. */
  public long numel() {
    return data.numel();
  }

  @Override
  public void close() {
    data.close();
  }

  @Override
  public String toString() {
    return "Parameter[" + data + (requiresGrad ? "" : ", frozen") + "]";
  }
}
