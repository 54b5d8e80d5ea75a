package dev.rectok.torch.io;

import dev.rectok.api.DType;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor's bytes in host memory: dense, row-major, little-endian, exactly {@code numel *
 * dtype.byteSize()} bytes. The currency between file formats and {@link dev.rectok.torch.Tensor}.
 *
 * <p>Ownership: the record does not own {@code data}; its lifetime is that of the arena or file it
 * came from (a memory-mapped safetensors file, for example, invalidates its slices on close).
 * Immutable apart from the bytes behind {@code data}; safe to share across threads for reading.
 *
 * @param dtype element type
 * @param shape sizes, outermost first; {@code long[0]} is a scalar
 * @param data the bytes
 */
public record HostTensor(DType dtype, long[] shape, MemorySegment data) {
  public HostTensor {
    Objects.requireNonNull(dtype, "dtype");
    shape = shape.clone();
    long n = numel(shape);
    if (data.byteSize() != n * dtype.byteSize()) {
      throw new IllegalArgumentException(
          "data holds "
              + data.byteSize()
              + " bytes but "
              + dtype
              + Arrays.toString(shape)
              + " needs "
              + n * dtype.byteSize());
    }
  }

  /** Elements in a tensor of this shape; negative sizes are rejected. */
  public static long numel(long[] shape) {
    long n = 1;
    for (long s : shape) {
      if (s < 0) {
        throw new IllegalArgumentException("negative size in shape " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, s);
    }
    return n;
  }

  /** Number of elements. */
  public long numel() {
    return numel(shape);
  }

  /** A copy of the shape. */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HostTensor h
        && h.dtype == dtype
        && Arrays.equals(h.shape, shape)
        && data.byteSize() == h.data.byteSize()
        && data.mismatch(h.data) < 0;
  }

  @Override
  public int hashCode() {
    return Objects.hash(dtype, Arrays.hashCode(shape), data.byteSize());
  }

  @Override
  public String toString() {
    return "HostTensor[" + dtype + Arrays.toString(shape) + "]";
  }
}
