package dev.rectok.torch.nn;

import dev.rectok.api.DType;
import dev.rectok.torch.F;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;

/**
 * {@code nn.Linear(in_features, out_features, bias)}: parameters {@code weight} (out, in) and
 * {@code bias} (out). Owns its parameters; threading as for every {@link Module}: concurrent
 * eval-mode forwards are safe, training and loading are single-threaded.
 */
public final class Linear extends UnaryModule {
  public final long inFeatures;
  public final long outFeatures;
  private final Parameter weight;
  private final Parameter bias;

  public Linear(long inFeatures, long outFeatures, boolean bias) {
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = registerParameter("weight", Tensor.zeros(outFeatures, inFeatures));
    this.bias = bias ? registerParameter("bias", Tensor.zeros(outFeatures)) : null;
    resetParameters(null);
  }

  @Override
  public void resetParameters(TorchGenerator gen) {
    Init.defaultLinear(weight.data(), bias == null ? null : bias.data(), gen);
  }

  public Parameter weight() {
    return weight;
  }

  /** The bias, or null. */
  public Parameter bias() {
    return bias;
  }

  @Override
  public Tensor forward(Tensor input) {
    // --- issue 13: weights packed once ---
    Tensor packed = weightPacked;
    if (packed != null) {
      if (packedDtype != DType.FLOAT32) {
        InferencePrecision.countLowPrecisionGemm();
      }
      return F.linearPacked(input, packed, bias == null ? null : bias.data(), outFeatures);
    }
    // --- issue 13: bf16 inference weights ---
    DType low = lowDtype;
    if (low != null
        && (float32Released
            || InferencePrecision.current() == low
                && InferencePrecision.isGemm(input, inFeatures))) {
      return InferencePrecision.lowPrecisionLinear(input, weightLow, biasLow, low);
    }
    return F.linear(input, weight.data(), bias == null ? null : bias.data());
  }

  // --- issue 13: bf16 inference weights ---
  // Copies of weight and bias in the inference GEMM dtype, made once by InferencePrecision.prepare
  // and used only under InferencePrecision.use(that dtype). Published through the volatile
  // lowDtype.
  private Tensor weightLow;
  private Tensor biasLow;
  private volatile DType lowDtype;

  // --- issue 13: weights packed once ---
  // The weight converted to packedDtype in oneDNN's blocked layout (InferencePrecision
  // .prepareReleasing where packing is enabled); the plain weight is then an empty tensor and the
  // float32 bias stays. Published through the volatile weightPacked.
  private volatile Tensor weightPacked;
  private DType packedDtype;

  /** Whether this layer's weight was packed once for oneDNN (inference only). */
  public boolean isPacked() {
    return weightPacked != null;
  }

  synchronized boolean packReleasing(DType compute) {
    Tensor w = weight.data();
    if (weightPacked != null
        || float32Released
        || lowDtype != null
        || w.dtype() != DType.FLOAT32
        || w.device().isCuda()) {
      return false;
    }
    Tensor p = F.linearPackWeight(w, compute).escape(); // the layer owns it, not the caller's scope
    try (GradMode g = GradMode.noGrad()) {
      weight.set(Tensor.zeros(new long[] {0}, DType.FLOAT32, w.device()));
    }
    packedDtype = compute;
    float32Released = true;
    weightPacked = p;
    return true;
  }

  synchronized boolean prepareLowPrecision(DType low) {
    if (weightPacked != null) {
      if (packedDtype == low) {
        return false;
      }
      throw new IllegalStateException(
          "this Linear's weight was packed for "
              + packedDtype
              + " inference: it cannot run in "
              + low);
    }
    if (lowDtype == low) {
      return false;
    }
    releaseLowPrecision();
    try (GradMode g = GradMode.noGrad()) {
      // owned by the layer, not by a scope the caller may have open
      weightLow = weight.data().to(low).escape();
      biasLow = bias == null ? null : bias.data().to(low).escape();
    }
    lowDtype = low;
    return true;
  }

  // Set once the float32 parameters were replaced by empty tensors (a low-precision-only model).
  private volatile boolean float32Released;

  synchronized boolean releaseFloat32() {
    if (lowDtype == null || float32Released) {
      return false;
    }
    try (GradMode g = GradMode.noGrad()) {
      weight.set(Tensor.zeros(new long[] {0}, DType.FLOAT32, weight.data().device()));
      if (bias != null) {
        bias.set(Tensor.zeros(new long[] {0}, DType.FLOAT32, bias.data().device()));
      }
    }
    float32Released = true;
    return true;
  }

  synchronized void releaseLowPrecision() {
    if (float32Released) {
      throw new IllegalStateException(
          "this Linear's float32 weights were released: it can only run in "
              + (weightPacked != null ? packedDtype : lowDtype));
    }
    freeLowCopies();
  }

  private synchronized void freeLowCopies() {
    lowDtype = null;
    if (weightLow != null) {
      weightLow.close();
      weightLow = null;
    }
    if (biasLow != null) {
      biasLow.close();
      biasLow = null;
    }
  }

  /** Frees the parameters and any low-precision or packed copies. */
  @Override
  public synchronized void close() {
    Tensor p = weightPacked;
    if (p != null) {
      weightPacked = null;
      p.close();
    }
    freeLowCopies();
    super.close();
  }

  @Override
  public String toString() {
    return "Linear(in_features="
        + inFeatures
        + ", out_features="
        + outFeatures
        + ", bias="
        + (bias != null)
        + ")";
  }
}
