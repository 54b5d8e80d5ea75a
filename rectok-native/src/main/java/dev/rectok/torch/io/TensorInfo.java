package dev.rectok.torch.io;

import dev.rectok.api.DType;
import java.util.Arrays;
import java.util.Objects;

/**
 * Where one tensor of a safetensors file lives: its dtype, shape and byte range. {@code begin} and
 * {@code end} are the header's {@code data_offsets}, relative to the start of the byte buffer that
 * follows the header; {@link #fileOffset()} is the absolute position in the file.
 *
 * <p>Immutable (the shape is copied in and out) and thread-safe.
 *
 * @param name tensor name as in the header
 * @param dtype element type
 * @param shape sizes, outermost first; {@code long[0]} is a scalar
 * @param begin first byte, relative to the buffer start
 * @param end one past the last byte, relative to the buffer start
 * @param bufferStart absolute file offset of the buffer ({@code 8 + header length})
 */
public record TensorInfo(
    String name, DType dtype, long[] shape, long begin, long end, long bufferStart) {
  public TensorInfo {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dtype, "dtype");
    shape = shape.clone();
    if (begin < 0 || end < begin || bufferStart < 0) {
      throw new IllegalArgumentException("bad byte range [" + begin + ", " + end + ")");
    }
  }

  /** A copy of the shape. */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Bytes of data, {@code end - begin}. */
  public long byteSize() {
    return end - begin;
  }

  /** Absolute offset of the first byte in the file. */
  public long fileOffset() {
    return bufferStart + begin;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorInfo t
        && t.name.equals(name)
        && t.dtype == dtype
        && Arrays.equals(t.shape, shape)
        && t.begin == begin
        && t.end == end
        && t.bufferStart == bufferStart;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end, bufferStart);
  }

  @Override
  public String toString() {
    return name
        + ": "
        + dtype.safetensorsName()
        + Arrays.toString(shape)
        + " ["
        + begin
        + ", "
        + end
        + ")";
  }
}
