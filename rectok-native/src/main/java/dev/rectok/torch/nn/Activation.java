package dev.rectok.torch.nn;

import dev.rectok.torch.F;
import dev.rectok.torch.Tensor;

/**
 * Parameter-free activations as modules, for {@link Sequential}: {@code nn.GELU}, {@code nn.SiLU},
 * ... Stateless and parameter-free: safe to share across threads.
 */
public final class Activation extends UnaryModule {
  private final String name;
  private final java.util.function.UnaryOperator<Tensor> fn;

  private Activation(String name, java.util.function.UnaryOperator<Tensor> fn) {
    this.name = name;
    this.fn = fn;
  }

  /** {@code nn.GELU(approximate="none")} or {@code "tanh"}. */
  public static Activation gelu(boolean tanhApproximation) {
    return new Activation(
        tanhApproximation ? "GELU(approximate='tanh')" : "GELU()",
        x -> F.gelu(x, tanhApproximation));
  }

  public static Activation silu() {
    return new Activation("SiLU()", Tensor::silu);
  }

  public static Activation relu() {
    return new Activation("ReLU()", Tensor::relu);
  }

  public static Activation tanh() {
    return new Activation("Tanh()", Tensor::tanh);
  }

  public static Activation sigmoid() {
    return new Activation("Sigmoid()", Tensor::sigmoid);
  }

  public static Activation leakyRelu(double slope) {
    return new Activation("LeakyReLU(" + slope + ")", x -> F.leakyRelu(x, slope));
  }

  @Override
  public Tensor forward(Tensor input) {
    return fn.apply(input);
  }

  @Override
  public String toString() {
    return name;
  }
}
