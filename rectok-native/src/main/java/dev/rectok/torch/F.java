package dev.rectok.torch;

import dev.rectok.api.DType;
import dev.rectok.torch.internal.Shim;

/**
 * {@code torch.nn.functional}: stateless network functions. Optional tensors may be null. Every
 * result is a new tensor owned by the caller (or the current {@link Scope}). Thread-safe.
 */
public final class F {
  private F() {}

  /** Interpolation modes of {@link #interpolate}. */
  public enum Interpolation {
    NEAREST(Shim.RT_INTERP_NEAREST),
    BILINEAR(Shim.RT_INTERP_BILINEAR),
    BICUBIC(Shim.RT_INTERP_BICUBIC);

    final int code;

    Interpolation(int code) {
      this.code = code;
    }
  }

  /** {@code x W^T + b}. */
  public static Tensor linear(Tensor input, Tensor weight, Tensor bias) {
    return Ops.linear(input, weight, bias);
  }

  // --- issue 13: weights packed once ---
  /**
   * An (out, in) float32 CPU weight converted to {@code compute} and reordered into oneDNN's brgemm
   * layout, as a 1-D float32 tensor for {@link #linearPacked} (see {@link
   * dev.rectok.torch.nn.InferencePrecision#prepareReleasing}).
   *
   * @param compute {@code FLOAT32} or {@code BFLOAT16}
   * @throws TorchException where {@link Torch#linearPacking(DType)} is empty, or for another weight
   */
  public static Tensor linearPackWeight(Tensor weight, DType compute) {
    return Ops.linearPackWeight(weight, compute.code());
  }

  /**
   * {@code linear(input, w, bias)} for CPU inference, with {@code w} packed by {@link
   * #linearPackWeight}: the float32 input is cast to the packed dtype inside, the products are
   * accumulated in float32 and the bias (float32) is added to the float32 result; no autograd. A
   * mismatched input, packed weight or bias is reported as a {@link TorchException}.
   */
  public static Tensor linearPacked(Tensor input, Tensor packed, Tensor bias, long outFeatures) {
    return Ops.linearPacked(input, packed, bias, outFeatures);
  }

  /** 2-D convolution; {@code stride}, {@code padding}, {@code dilation} are (h, w). */
  public static Tensor conv2d(
      Tensor input,
      Tensor weight,
      Tensor bias,
      long[] stride,
      long[] padding,
      long[] dilation,
      long groups) {
    return Ops.conv2d(
        input,
        weight,
        bias,
        stride[0],
        stride[1],
        padding[0],
        padding[1],
        dilation[0],
        dilation[1],
        groups);
  }

  /**
   * {@code F.interpolate(size=(h, w), mode=..., align_corners=..., antialias=...)} on NCHW input.
   */
  public static Tensor interpolate(
      Tensor input,
      long outH,
      long outW,
      Interpolation mode,
      boolean alignCorners,
      boolean antialias) {
    return Ops.interpolate(input, outH, outW, mode.code, alignCorners ? 1 : 0, antialias ? 1 : 0);
  }

  /** {@code F.avg_pool2d}; arrays are (h, w). */
  public static Tensor avgPool2d(
      Tensor input,
      long[] kernel,
      long[] stride,
      long[] padding,
      boolean ceilMode,
      boolean countIncludePad) {
    return Ops.avgPool2d(
        input,
        kernel[0],
        kernel[1],
        stride[0],
        stride[1],
        padding[0],
        padding[1],
        ceilMode ? 1 : 0,
        countIncludePad ? 1 : 0);
  }

  /** {@code F.max_pool2d}; arrays are (h, w). */
  public static Tensor maxPool2d(
      Tensor input, long[] kernel, long[] stride, long[] padding, boolean ceilMode) {
    return Ops.maxPool2d(
        input,
        kernel[0],
        kernel[1],
        stride[0],
        stride[1],
        padding[0],
        padding[1],
        ceilMode ? 1 : 0);
  }

  /** {@code F.adaptive_avg_pool2d((h, w))}. */
  public static Tensor adaptiveAvgPool2d(Tensor input, long outH, long outW) {
    return Ops.adaptiveAvgPool2d(input, outH, outW);
  }

  /** Rows of {@code weight} picked by integer {@code indices}. */
  public static Tensor embedding(Tensor weight, Tensor indices) {
    return Ops.embedding(weight, indices);
  }

  public static Tensor softmax(Tensor input, long dim) {
    return Ops.softmax(input, dim);
  }

  public static Tensor logSoftmax(Tensor input, long dim) {
    return Ops.logSoftmax(input, dim);
  }

  /** {@code F.layer_norm} over the trailing {@code normalizedShape}. */
  public static Tensor layerNorm(
      Tensor input, long[] normalizedShape, Tensor weight, Tensor bias, double eps) {
    return Ops.layerNorm(input, normalizedShape, weight, bias, eps);
  }

  /**
   * RMSNorm: {@code x * rsqrt(mean(x^2) + eps) * weight} over the trailing {@code normalizedShape}.
   * Over the last dim of a contiguous float32 CPU tensor, outside autograd, it runs as one fused
   * pass whose sum of squares is accumulated in another order than ATen's (about 1e-7 relative).
   */
  public static Tensor rmsNorm(Tensor input, long[] normalizedShape, Tensor weight, double eps) {
    return Ops.rmsNorm(input, normalizedShape, weight, eps);
  }

  /**
   * DiT's {@code modulate}: {@code input * (1 + scale) + shift}, with {@code shift} and {@code
   * scale} broadcast to {@code input} (one vector per sample or one per token). One fused pass for
   * float32 CPU inference, bit-identical to the three ATen ops it replaces, which run everywhere
   * else (CUDA, autograd, other dtypes).
   */
  public static Tensor modulate(Tensor input, Tensor shift, Tensor scale) {
    return Ops.modulate(input, shift, scale);
  }

  /**
   * Interleaved rotary embedding, {@code input * cos + rotate_half(input) * sin}, where {@code
   * rotate_half} maps each channel pair {@code (x0, x1)} to {@code (-x1, x0)} (EVA / RecTok style).
   * {@code cos} and {@code sin} broadcast to {@code input}, whose last dim must be even; {@code
   * input} may be a strided view (q or k of a qkv projection). Fused and bit-identical to the
   * composite ops for float32 CPU inference.
   */
  public static Tensor applyRotaryEmb(Tensor input, Tensor cos, Tensor sin) {
    return Ops.applyRotaryEmb(input, cos, sin);
  }

  public static Tensor groupNorm(
      Tensor input, long numGroups, Tensor weight, Tensor bias, double eps) {
    return Ops.groupNorm(input, numGroups, weight, bias, eps);
  }

  /** {@code F.batch_norm}; in training mode the running statistics are updated in place. */
  public static Tensor batchNorm(
      Tensor input,
      Tensor runningMean,
      Tensor runningVar,
      Tensor weight,
      Tensor bias,
      boolean training,
      double momentum,
      double eps) {
    return Ops.batchNorm(
        input, weight, bias, runningMean, runningVar, training ? 1 : 0, momentum, eps);
  }

  /** {@code F.dropout}; the identity when not training. Draws from LibTorch's default generator. */
  public static Tensor dropout(Tensor input, double p, boolean training) {
    return Ops.dropout(input, p, training ? 1 : 0);
  }

  /**
   * {@code F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal, scale)}:
   * LibTorch's fused kernel where the version has it (2.1+; flash / memory-efficient on CUDA), the
   * exact composite otherwise. {@code scale <= 0} means {@code 1/sqrt(E)}; a boolean mask is true
   * where attention is allowed.
   */
  public static Tensor scaledDotProductAttention(
      Tensor q,
      Tensor k,
      Tensor v,
      Tensor attnMask,
      double dropoutP,
      boolean isCausal,
      double scale) {
    return Ops.scaledDotProductAttention(q, k, v, attnMask, dropoutP, isCausal ? 1 : 0, scale);
  }

  /**
   * {@code softmax(q k^T * scale [+ mask]) v} as plain float ops: the reference's formula, bit for
   * bit.
   */
  public static Tensor attentionMath(
      Tensor q, Tensor k, Tensor v, Tensor attnMask, boolean isCausal, double scale) {
    return Ops.attentionMath(q, k, v, attnMask, isCausal ? 1 : 0, scale);
  }

  /** Mean squared error (mean reduction). */
  public static Tensor mseLoss(Tensor input, Tensor target) {
    return Ops.mseLoss(input, target);
  }

  /** Cross entropy of logits (N, C) against int64 class indices (N), mean reduction. */
  public static Tensor crossEntropy(Tensor logits, Tensor target) {
    return Ops.crossEntropy(logits, target);
  }

  /** {@code F.cosine_similarity(a, b, dim, eps)}. */
  public static Tensor cosineSimilarity(Tensor a, Tensor b, long dim, double eps) {
    return Ops.cosineSimilarity(a, b, dim, eps);
  }

  /** GELU, exact ({@code approximate="none"}) or with the tanh approximation. */
  public static Tensor gelu(Tensor input, boolean tanhApproximation) {
    return Ops.gelu(input, tanhApproximation ? 1 : 0);
  }

  public static Tensor silu(Tensor input) {
    return input.silu();
  }

  public static Tensor relu(Tensor input) {
    return input.relu();
  }

  public static Tensor leakyRelu(Tensor input, double negativeSlope) {
    return Ops.leakyRelu(input, negativeSlope);
  }

  public static Tensor sigmoid(Tensor input) {
    return input.sigmoid();
  }

  public static Tensor tanh(Tensor input) {
    return input.tanh();
  }
}
