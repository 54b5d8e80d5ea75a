package dev.rectok.torch.optim;

import dev.rectok.torch.nn.Parameter;
import java.util.List;
import java.util.Objects;

/**
 * A parameter group ({@code {'params': [...], 'lr': .., 'weight_decay': ..}}). The learning rate is
 * mutable so schedules can set it per step; everything else is fixed. Not thread-safe.
 */
public final class ParamGroup {
  private final List<Parameter> params;
  private double lr;
  private final double weightDecay;

  public ParamGroup(List<Parameter> params, double lr, double weightDecay) {
    this.params = List.copyOf(Objects.requireNonNull(params, "params"));
    if (!(lr >= 0) || !(weightDecay >= 0)) {
      throw new IllegalArgumentException(
          "lr and weight_decay must be >= 0, got " + lr + ", " + weightDecay);
    }
    this.lr = lr;
    this.weightDecay = weightDecay;
  }

  public List<Parameter> params() {
    return params;
  }

  public double lr() {
    return lr;
  }

  /** Sets the learning rate (what a scheduler does each step). */
  public void lr(double value) {
    if (!(value >= 0)) {
      throw new IllegalArgumentException("lr must be >= 0, got " + value);
    }
    lr = value;
  }

  public double weightDecay() {
    return weightDecay;
  }
}
