package dev.rectok.train.tokenizer;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Every random draw of one tokenizer training step, in the reference's order
 * (docs/training.md#stage1-step, docs/quirks.md#generators): the mask ratio, the per-token mask
 * noise, the posterior ε, the time uniforms u and the latent-noise ε. Injecting the source lets a
 * golden replay feed recorded draws and lets a run checkpoint its generators.
 *
 * <p><b>Ownership.</b> Returned tensors are new handles that belong to the caller (or the current
 * {@link dev.rectok.torch.Scope}). Implementations are stateful and not thread-safe: use one per
 * trainer, from its thread.
 */
public interface TrainingNoise extends AutoCloseable {

  /**
   * The raw mask-ratio draw U(lo, hi) (the reference's Python {@code random.uniform}); the caller
   * applies {@code max(0, ·)}.
   */
  double maskRatio(double lo, double hi);

  /** Per-token uniforms (B, L) whose argsort is the MAE shuffle. */
  Tensor maskNoise(long batch, long seqLen, Device device);

  /** Standard normal ε of the posterior sample, shaped like the visible latents. */
  Tensor posteriorEps(long[] shape, Device device);

  /** Uniforms u (B, 1, 1) of the noise schedule's time τ. */
  Tensor tauUniform(long batch, Device device);

  /** Standard normal ε of the latent noise, shaped like the visible latents. */
  Tensor latentEps(long[] shape, Device device);

  /** Frees what the source holds (its generators). */
  @Override
  void close();

  /**
   * The trainer's default source: the mask ratio from a CPU generator (standing in for Python's
   * {@code random}, so it can be checkpointed) and every tensor draw from a second generator on the
   * training device. The generators are owned by the returned object.
   */
  static Seeded seeded(long seed, Device device) {
    return new Seeded(seed, device);
  }

  /**
   * The recorded draws of a golden case: the four tensors are returned (as new handles) in place of
   * fresh draws and the mask ratio is the forced one. The tensors are borrowed; each may be
   * requested any number of times. Shapes are checked against the request.
   */
  static TrainingNoise replay(
      double forcedMaskRatio,
      Tensor maskNoise,
      Tensor posteriorEps,
      Tensor tauUniform,
      Tensor latentEps) {
    return new Replay(forcedMaskRatio, maskNoise, posteriorEps, tauUniform, latentEps);
  }

  /** The seeded default; exposes its generators for checkpoint registration. */
  final class Seeded implements TrainingNoise {
    private final TorchGenerator ratio;
    private final TorchGenerator tensors;

    private Seeded(long seed, Device device) {
      this.ratio = TorchGenerator.cpu(seed);
      this.tensors = TorchGenerator.create(Objects.requireNonNull(device, "device"), seed + 1);
    }

    /** Generators by checkpoint name ({@code noise.ratio}, {@code noise.tensors}); borrowed. */
    public Map<String, TorchGenerator> generators() {
      Map<String, TorchGenerator> m = new LinkedHashMap<>();
      m.put("noise.ratio", ratio);
      m.put("noise.tensors", tensors);
      return m;
    }

    @Override
    public double maskRatio(double lo, double hi) {
      try (Scope s = Scope.open()) {
        double u = Tensor.rand(new long[] {1}, ratio, DType.FLOAT64, Device.CPU).item();
        return lo + (hi - lo) * u;
      }
    }

    @Override
    public Tensor maskNoise(long batch, long seqLen, Device device) {
      return Tensor.rand(new long[] {batch, seqLen}, tensors, DType.FLOAT32, device);
    }

    @Override
    public Tensor posteriorEps(long[] shape, Device device) {
      return Tensor.randn(shape, tensors, DType.FLOAT32, device);
    }

    @Override
    public Tensor tauUniform(long batch, Device device) {
      return Tensor.rand(new long[] {batch, 1, 1}, tensors, DType.FLOAT32, device);
    }

    @Override
    public Tensor latentEps(long[] shape, Device device) {
      return Tensor.randn(shape, tensors, DType.FLOAT32, device);
    }

    @Override
    public void close() {
      ratio.close();
      tensors.close();
    }
  }

  /** See {@link #replay}. */
  final class Replay implements TrainingNoise {
    private final double ratio;
    private final Tensor maskNoise;
    private final Tensor posteriorEps;
    private final Tensor tauUniform;
    private final Tensor latentEps;

    private Replay(
        double ratio, Tensor maskNoise, Tensor posteriorEps, Tensor tauUniform, Tensor latentEps) {
      this.ratio = ratio;
      this.maskNoise = Objects.requireNonNull(maskNoise, "maskNoise");
      this.posteriorEps = Objects.requireNonNull(posteriorEps, "posteriorEps");
      this.tauUniform = Objects.requireNonNull(tauUniform, "tauUniform");
      this.latentEps = Objects.requireNonNull(latentEps, "latentEps");
    }

    @Override
    public double maskRatio(double lo, double hi) {
      return ratio;
    }

    @Override
    public Tensor maskNoise(long batch, long seqLen, Device device) {
      return checked("mask noise", maskNoise, new long[] {batch, seqLen}, device);
    }

    @Override
    public Tensor posteriorEps(long[] shape, Device device) {
      return checked("posterior eps", posteriorEps, shape, device);
    }

    @Override
    public Tensor tauUniform(long batch, Device device) {
      return checked("tau uniforms", tauUniform, new long[] {batch, 1, 1}, device);
    }

    @Override
    public Tensor latentEps(long[] shape, Device device) {
      return checked("latent eps", latentEps, shape, device);
    }

    private static Tensor checked(String what, Tensor t, long[] shape, Device device) {
      if (!java.util.Arrays.equals(t.shape(), shape)) {
        throw new IllegalArgumentException(
            "recorded "
                + what
                + " has shape "
                + java.util.Arrays.toString(t.shape())
                + " but the step needs "
                + java.util.Arrays.toString(shape));
      }
      return t.to(device);
    }

    /** Borrows the recorded tensors: nothing to free. */
    @Override
    public void close() {}
  }
}
