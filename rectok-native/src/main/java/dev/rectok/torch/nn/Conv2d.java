package dev.rectok.torch.nn;

import dev.rectok.torch.F;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;

/**
 * {@code nn.Conv2d(in, out, kernel_size, stride, padding, dilation, groups, bias)}: {@code weight}
 * (out, in/groups, kh, kw) and {@code bias} (out).
 *
 * <p>Owns its parameters; threading as for every {@link Module}: concurrent eval-mode forwards are
 * safe, training and loading are single-threaded.
 */
public final class Conv2d extends UnaryModule {
  public final long inChannels;
  public final long outChannels;
  private final long[] kernel;
  private final long[] stride;
  private final long[] padding;
  private final long[] dilation;
  private final long groups;
  private final Parameter weight;
  private final Parameter bias;

  /** Square kernel, stride 1, no padding, no dilation, one group, with bias. */
  public Conv2d(long in, long out, long kernel) {
    this(
        in,
        out,
        new long[] {kernel, kernel},
        new long[] {1, 1},
        new long[] {0, 0},
        new long[] {1, 1},
        1,
        true);
  }

  /** Square kernel with the given stride and padding, with bias. */
  public Conv2d(long in, long out, long kernel, long stride, long padding) {
    this(
        in,
        out,
        new long[] {kernel, kernel},
        new long[] {stride, stride},
        new long[] {padding, padding},
        new long[] {1, 1},
        1,
        true);
  }

  /** Every argument, (h, w) pairs. */
  public Conv2d(
      long in,
      long out,
      long[] kernel,
      long[] stride,
      long[] padding,
      long[] dilation,
      long groups,
      boolean bias) {
    if (in % groups != 0 || out % groups != 0) {
      throw new IllegalArgumentException(
          "in_channels and out_channels must be divisible by groups");
    }
    this.inChannels = in;
    this.outChannels = out;
    this.kernel = kernel.clone();
    this.stride = stride.clone();
    this.padding = padding.clone();
    this.dilation = dilation.clone();
    this.groups = groups;
    this.weight = registerParameter("weight", Tensor.zeros(out, in / groups, kernel[0], kernel[1]));
    this.bias = bias ? registerParameter("bias", Tensor.zeros(out)) : null;
    resetParameters(null);
  }

  @Override
  public void resetParameters(TorchGenerator gen) {
    Init.defaultLinear(weight.data(), bias == null ? null : bias.data(), gen);
  }

  public Parameter weight() {
    return weight;
  }

  public Parameter bias() {
    return bias;
  }

  @Override
  public Tensor forward(Tensor input) {
    return F.conv2d(
        input, weight.data(), bias == null ? null : bias.data(), stride, padding, dilation, groups);
  }

  @Override
  public String toString() {
    return "Conv2d("
        + inChannels
        + ", "
        + outChannels
        + ", kernel_size=("
        + kernel[0]
        + ", "
        + kernel[1]
        + "), stride=("
        + stride[0]
        + ", "
        + stride[1]
        + "))";
  }
}
