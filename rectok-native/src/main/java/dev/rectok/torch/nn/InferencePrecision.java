package dev.rectok.torch.nn;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.api.Precision;
import dev.rectok.torch.CpuFeatures;
import dev.rectok.torch.F;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.util.concurrent.atomic.LongAdder;

/**
 * The inference precision policy of issue 13: which dtype the GEMMs of prepared models run in on
 * the current thread. {@link Linear} and the models' attention consult it; everything else (norms,
 * softmax statistics, RoPE, adaLN modulation, the sampler) stays float32, as the reference's {@code
 * torch.autocast(dtype=torch.bfloat16)} keeps those in float32.
 *
 * <pre>{@code
 * InferencePrecision.prepare(model, DType.BFLOAT16);          // once, after loading: bf16 weight copies
 * try (InferencePrecision.Guard g = InferencePrecision.use(DType.BFLOAT16)) {
 *   out = model.forward(x);                                    // prepared Linears and attention in bf16
 * }
 * }</pre>
 *
 * <p>Only modules that were {@link #prepare prepared} change precision: a model that was not (e.g.
 * a feature extractor for FID) stays float32 inside a guard. A {@link Linear} returns float32
 * whatever it computes in, so the residual stream stays float32 (measured cost and gain: the
 * precision section of {@code bench/README.md}).
 *
 * <p>Threading: the mode is per Java thread (a guard must be closed on the thread that opened it;
 * guards nest); {@link #prepare} may run concurrently with forwards of other threads in float32,
 * and converts each weight once. Ownership: the low-precision copies belong to their {@link Linear}
 * and are freed with it or by {@link #release}.
 */
public final class InferencePrecision {
  private InferencePrecision() {}

  private static final ThreadLocal<DType> CURRENT = new ThreadLocal<>();
  private static final LongAdder LOW_PRECISION_GEMMS = new LongAdder();

  /** The precision mode of this thread: {@code FLOAT32} outside any guard. */
  public static DType current() {
    DType d = CURRENT.get();
    return d == null ? DType.FLOAT32 : d;
  }

  /**
   * Sets this thread's GEMM dtype until the guard is closed.
   *
   * @param compute {@code FLOAT32} or {@code BFLOAT16}
   * @throws IllegalArgumentException for other dtypes
   */
  public static Guard use(DType compute) {
    if (compute != DType.FLOAT32 && compute != DType.BFLOAT16) {
      throw new IllegalArgumentException(
          "inference precision must be float32 or bfloat16, not " + compute);
    }
    return new Guard(compute);
  }

  /**
   * Converts the weights of every {@link Linear} under {@code root} to {@code compute} once (a
   * second call is a no-op), so that forwards under {@link #use use(compute)} multiply in it. Call
   * it after loading and after moving the model to its device.
   *
   * @return how many Linears were converted by this call
   */
  public static int prepare(Module root, DType compute) {
    return prepare(root, compute, path -> true);
  }

  /**
   * {@link #prepare(Module, DType)} for the Linears whose state-dict path (e.g. {@code
   * blocks.0.attn.qkv}) {@code convert} accepts; the others stay float32 under a guard.
   *
   * @return how many Linears were converted by this call
   */
  public static int prepare(
      Module root, DType compute, java.util.function.Predicate<String> convert) {
    if (compute != DType.BFLOAT16) {
      throw new IllegalArgumentException("only bfloat16 copies are prepared, not " + compute);
    }
    int[] n = {0};
    walk(
        root,
        "",
        (path, m) -> {
          if (m instanceof Linear l && convert.test(path) && l.prepareLowPrecision(compute)) {
            n[0]++;
          }
        });
    return n[0];
  }

  /**
   * For a model that will only ever run in its prepared low precision: frees the float32 weight and
   * bias of every prepared Linear under {@code root} (they become empty tensors), halving the
   * model's share of memory. Those Linears then multiply in the low dtype whatever the guard says
   * and at any row count; their state dict no longer holds the float32 values. Irreversible.
   *
   * @return how many Linears were released
   */
  public static int releaseFloat32(Module root) {
    int[] n = {0};
    walk(
        root,
        "",
        (path, m) -> {
          if (m instanceof Linear l && l.releaseFloat32()) {
            n[0]++;
          }
        });
    return n[0];
  }

  /**
   * {@link #prepare(Module, DType, java.util.function.Predicate)} then {@link #releaseFloat32}, one
   * Linear at a time, so that the peak memory is the float32 model plus one layer's copy rather
   * than one and a half models. Where {@link #packingEnabled} holds, each weight is packed once for
   * oneDNN instead of converted (the float32 bias stays).
   *
   * @return how many Linears were converted and released
   */
  public static int prepareReleasing(
      Module root, DType compute, java.util.function.Predicate<String> convert) {
    if (compute != DType.BFLOAT16) {
      throw new IllegalArgumentException("only bfloat16 copies are prepared, not " + compute);
    }
    boolean packing = packingEnabled(compute);
    int[] n = {0};
    walk(
        root,
        "",
        (path, m) -> {
          if (m instanceof Linear l && convert.test(path)) {
            if (packing && l.packReleasing(compute)) {
              n[0]++; // packed once for oneDNN: the float32 weight is already freed
              dev.rectok.torch.Torch.cpuAllocatorTrim();
              return;
            }
            l.prepareLowPrecision(compute);
            if (l.releaseFloat32()) {
              n[0]++;
              // unmap the released float32 block now: the block allocator's cache would keep it
              // resident, and a half-size bf16 copy never reuses it (docs/runtime.md#cpu-allocator)
              dev.rectok.torch.Torch.cpuAllocatorTrim();
            }
          }
        });
    return n[0];
  }

  // --- issue 13: weights packed once ---
  /**
   * Whether {@link #prepareReleasing} packs the weights for {@code compute} once into oneDNN's
   * brgemm layout instead of converting them: {@code compute} is bfloat16, the shim has a brgemm
   * kernel for it on this CPU ({@link dev.rectok.torch.Torch#linearPacking(DType)} is not empty)
   * and the system property {@code rectok.packWeights} is not {@code false}. A packed Linear skips
   * the re-blocking LibTorch 1.13's bf16 linear does inside every call and returns float32 straight
   * from float32 accumulators (no bf16 rounding of its output). Float32 weights are never packed:
   * oneDNN's float32 kernel on packed weights measured no faster than OpenBLAS on weights that
   * stream from memory, as a model's do ({@code bench/README.md}).
   */
  public static boolean packingEnabled(DType compute) {
    return compute == DType.BFLOAT16
        && !"false".equalsIgnoreCase(System.getProperty("rectok.packWeights", "true"))
        && !dev.rectok.torch.Torch.linearPacking(compute).isEmpty();
  }

  static void countLowPrecisionGemm() {
    LOW_PRECISION_GEMMS.increment();
  }

  /** Frees the low-precision copies under {@code root} (e.g. before training it again). */
  public static void release(Module root) {
    walk(
        root,
        "",
        (path, m) -> {
          if (m instanceof Linear l) {
            l.releaseLowPrecision();
          }
        });
  }

  private static void walk(
      Module m, String path, java.util.function.BiConsumer<String, Module> visit) {
    visit.accept(path, m);
    m.children().forEach((name, c) -> walk(c, path.isEmpty() ? name : path + "." + name, visit));
  }

  /**
   * GEMMs run in a low precision so far, process-wide (diagnostics and tests: a bf16 run must move
   * it, a float32 run must not).
   */
  public static long lowPrecisionGemms() {
    return LOW_PRECISION_GEMMS.sum();
  }

  /**
   * Resolves a requested {@link Precision} to the GEMM dtype on {@code device}, with this machine's
   * CPU flags ({@link CpuFeatures#detect()}).
   *
   * @throws IllegalArgumentException for {@code BF16} on a CPU without native bf16
   */
  public static DType resolve(Precision requested, Device device) {
    return resolve(requested, device, CpuFeatures.detect());
  }

  /**
   * Resolves {@code requested} on {@code device} for a CPU with {@code cpu}'s flags: FP32 is
   * float32; BF16 is bfloat16 on CUDA and on CPUs with AVX-512 BF16 or AMX and refused elsewhere
   * (it would be emulated, slower than float32); AUTO is bfloat16 where BF16 is allowed, else
   * float32.
   *
   * @throws IllegalArgumentException for {@code BF16} on a CPU without native bf16, naming the
   *     flags looked for and the alternatives
   */
  public static DType resolve(Precision requested, Device device, CpuFeatures cpu) {
    boolean native16 = device.isCuda() || cpu.hasNativeBf16();
    return switch (requested) {
      case FP32 -> DType.FLOAT32;
      case AUTO -> native16 ? DType.BFLOAT16 : DType.FLOAT32;
      case BF16 -> {
        if (!native16) {
          throw new IllegalArgumentException(
              "precision bf16 needs a CPU with AVX-512 BF16 (avx512_bf16 with "
                  + "avx512bw/vl/dq) or AMX (amx_bf16), or a CUDA device; this CPU has neither (flags from "
                  + cpu.source()
                  + "), so bf16 would be slower than fp32: use --precision fp32 or auto");
        }
        yield DType.BFLOAT16;
      }
    };
  }

  /**
   * Fewest input rows for which a prepared Linear multiplies in the low dtype. Below it the call is
   * a matrix-vector product (DiT^DH's per-sample adaLN modulation at small batches), bound by
   * reading the weights; it stays on the float32 weights, as the precision list keeps adaLN
   * modulation in float32.
   */
  public static final long MIN_LOW_PRECISION_ROWS = 16;

  static boolean isGemm(Tensor input, long inFeatures) {
    return input.numel() / Math.max(1, inFeatures) >= MIN_LOW_PRECISION_ROWS;
  }

  /** {@code linear(x, w, b)} with {@code w}, {@code b} already in the low dtype; float32 result. */
  static Tensor lowPrecisionLinear(Tensor input, Tensor weight, Tensor bias, DType low) {
    try (Scope s = Scope.open()) {
      Tensor x = input.dtype() == low ? input : input.to(low);
      Tensor y = F.linear(x, weight, bias);
      LOW_PRECISION_GEMMS.increment();
      return s.keep(y.to(DType.FLOAT32));
    }
  }

  /**
   * Attention {@code softmax(q k^T * scale) v} (no mask, no dropout) under the current mode: in
   * float32, {@link F#scaledDotProductAttention} (today's numerics); in bfloat16 on the CPU, both
   * products in bf16 with the scaled scores and the softmax in float32, as autocast computes it; in
   * bfloat16 on CUDA, the fused SDPA kernel on bf16 inputs (float32 statistics inside). Arguments
   * are borrowed; the float32 result belongs to the caller's scope.
   */
  public static Tensor attention(Tensor q, Tensor k, Tensor v, double scale) {
    DType mode = current();
    if (mode == DType.FLOAT32) {
      return F.scaledDotProductAttention(q, k, v, null, 0.0, false, scale);
    }
    if (q.device().isCuda()) {
      // LibTorch 2.x on CUDA: the fused kernel (flash / memory-efficient) takes bf16 q, k, v and
      // keeps its softmax statistics in float32 itself; on 1.13 the shim falls back to the
      // composite.
      try (Scope s = Scope.open()) {
        Tensor o =
            F.scaledDotProductAttention(
                q.to(mode), k.to(mode), v.to(mode), null, 0.0, false, scale);
        LOW_PRECISION_GEMMS.add(2);
        return s.keep(o.to(DType.FLOAT32));
      }
    }
    try (Scope s = Scope.open()) {
      Tensor scores = q.to(mode).matmul(k.to(mode).transpose(-2, -1)).to(DType.FLOAT32);
      scores.mul_(scale);
      Tensor p = F.softmax(scores, -1).to(mode);
      Tensor o = p.matmul(v.to(mode));
      LOW_PRECISION_GEMMS.add(2);
      return s.keep(o.to(DType.FLOAT32));
    }
  }

  /** Restores the previous mode when closed. Not thread-safe: close it on the opening thread. */
  public static final class Guard implements AutoCloseable {
    private final DType previous;
    private final Thread owner;
    private boolean closed;

    private Guard(DType mode) {
      this.previous = CURRENT.get();
      this.owner = Thread.currentThread();
      CURRENT.set(mode);
    }

    @Override
    public void close() {
      if (closed) {
        return;
      }
      if (Thread.currentThread() != owner) {
        throw new IllegalStateException(
            "an InferencePrecision guard must be closed on the thread that opened it");
      }
      closed = true;
      if (previous == null) {
        CURRENT.remove();
      } else {
        CURRENT.set(previous);
      }
    }
  }
}
