package dev.rectok.torch.io;

import dev.rectok.api.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor found in a {@code torch.save} checkpoint: a strided view (dtype, shape, stride, storage
 * offset) of a storage record that several tensors may share, as PyTorch stores parameters and
 * their EMA twins.
 *
 * <p>Ownership: the storage bytes belong to the {@link PthCheckpoint} this tensor came from and die
 * with it. {@link #toHost()} copies into the checkpoint's arena (freed on its close; each call
 * allocates anew); {@link #toHost(Arena)} copies into an arena the caller owns.
 *
 * <p>Threading: immutable; any number of threads may call {@link #toHost} concurrently while the
 * checkpoint is open.
 */
public final class PthTensor {
  private final DType dtype;
  private final long[] shape;
  private final long[] stride;
  private final long storageOffset;
  private final PthStorage storage;
  private final boolean requiresGrad;
  private final boolean parameter;
  private final PthCheckpoint.Owner owner;

  PthTensor(
      DType dtype,
      long[] shape,
      long[] stride,
      long storageOffset,
      PthStorage storage,
      boolean requiresGrad,
      boolean parameter,
      PthCheckpoint.Owner owner) {
    this.dtype = Objects.requireNonNull(dtype);
    this.shape = shape.clone();
    this.stride = stride.clone();
    this.storageOffset = storageOffset;
    this.storage = storage;
    this.requiresGrad = requiresGrad;
    this.parameter = parameter;
    this.owner = owner;
  }

  /** This tensor re-labelled as an {@code nn.Parameter}, as {@code _rebuild_parameter} does. */
  PthTensor asParameter(boolean grad) {
    return new PthTensor(dtype, shape, stride, storageOffset, storage, grad, true, owner);
  }

  /** Element type. */
  public DType dtype() {
    return dtype;
  }

  /** A copy of the sizes, outermost first; {@code long[0]} for a scalar. */
  public long[] shape() {
    return shape.clone();
  }

  /** A copy of the strides, in elements. */
  public long[] stride() {
    return stride.clone();
  }

  /** Offset of element {@code [0,...,0]} in the storage, in elements. */
  public long storageOffset() {
    return storageOffset;
  }

  /** The storage record's key: the zip entry {@code <prefix>/data/<key>}. */
  public String storageKey() {
    return storage.key;
  }

  /** The location tag recorded at save time ({@code "cpu"}, {@code "cuda:0"}); informational. */
  public String location() {
    return storage.location;
  }

  /** The saved {@code requires_grad} flag. */
  public boolean requiresGrad() {
    return requiresGrad;
  }

  /** True if this was pickled as an {@code nn.Parameter}. */
  public boolean isParameter() {
    return parameter;
  }

  /** Number of elements. */
  public long numel() {
    return HostTensor.numel(shape);
  }

  /** True if the elements are dense and row-major in the storage (a plain slice of it). */
  public boolean isContiguous() {
    long expected = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      if (shape[i] == 0) {
        return true;
      }
      if (shape[i] != 1 && stride[i] != expected) {
        return false;
      }
      expected *= shape[i];
    }
    return true;
  }

  /**
   * A dense, row-major copy in the checkpoint's arena, freed when the checkpoint closes.
   *
   * @throws IllegalStateException if the checkpoint is closed
   */
  public HostTensor toHost() {
    owner.ensureOpen();
    return toHost(owner.arena);
  }

  /**
   * A dense, row-major copy allocated in {@code arena}, which the caller owns. Honors strides and
   * the storage offset.
   *
   * @throws IllegalStateException if the checkpoint is closed
   */
  public HostTensor toHost(Arena arena) {
    owner.ensureOpen();
    int es = dtype.byteSize();
    long n = numel();
    MemorySegment src = storage.bytes();
    MemorySegment dst = arena.allocate(n * es, Math.min(es, 8));
    if (n > 0) {
      copyStrided(src, dst, es);
    }
    return new HostTensor(dtype, shape, dst);
  }

  // Copies the longest contiguous innermost block at a time, walking the outer dims as an
  // odometer; a fully contiguous tensor is one copy. Bounds were checked at read time.
  private void copyStrided(MemorySegment src, MemorySegment dst, int es) {
    int r = shape.length;
    long run = 1;
    int k = r;
    while (k > 0 && (shape[k - 1] == 1 || stride[k - 1] == run)) {
      run *= shape[k - 1];
      k--;
    }
    long runBytes = run * es;
    long[] idx = new long[k];
    long out = 0;
    long total = dst.byteSize();
    while (out < total) {
      long off = storageOffset;
      for (int i = 0; i < k; i++) {
        off += idx[i] * stride[i];
      }
      MemorySegment.copy(src, off * es, dst, out, runBytes);
      out += runBytes;
      for (int i = k - 1; i >= 0; i--) {
        if (++idx[i] < shape[i]) {
          break;
        }
        idx[i] = 0;
      }
    }
  }

  @Override
  public String toString() {
    return (parameter ? "Parameter[" : "PthTensor[")
        + dtype
        + Arrays.toString(shape)
        + ", stride="
        + Arrays.toString(stride)
        + ", offset="
        + storageOffset
        + ", storage="
        + storage.key
        + "@"
        + storage.location
        + "]";
  }
}
