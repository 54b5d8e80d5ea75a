package dev.rectok.torch.io;

import dev.rectok.api.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Finds NaN and infinite values in host tensors, so that a model file or latents holding them are
 * refused at the door with the tensor named, instead of producing black images with exit code 0.
 * One sequential pass over the bytes (for a memory-mapped file, one read of it); integer and
 * boolean tensors are always finite.
 *
 * <p>Stateless and thread-safe; the tensors are only read.
 */
public final class FiniteValues {
  private static final ValueLayout.OfInt I32 =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong I64 =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort I16 =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private FiniteValues() {}

  /** The flat index of the first NaN or infinite element of {@code t}, or -1 if all are finite. */
  public static long firstNonFinite(HostTensor t) {
    MemorySegment d = t.data();
    long n = t.numel();
    DType dt = t.dtype();
    // A value is NaN or infinite exactly when its exponent bits are all ones.
    switch (dt) {
      case FLOAT32 -> {
        for (long i = 0; i < n; i++) {
          if ((d.get(I32, i * 4) & 0x7f80_0000) == 0x7f80_0000) {
            return i;
          }
        }
      }
      case FLOAT64 -> {
        for (long i = 0; i < n; i++) {
          if ((d.get(I64, i * 8) & 0x7ff0_0000_0000_0000L) == 0x7ff0_0000_0000_0000L) {
            return i;
          }
        }
      }
      case FLOAT16 -> {
        for (long i = 0; i < n; i++) {
          if ((d.get(I16, i * 2) & 0x7c00) == 0x7c00) {
            return i;
          }
        }
      }
      case BFLOAT16 -> {
        for (long i = 0; i < n; i++) {
          if ((d.get(I16, i * 2) & 0x7f80) == 0x7f80) {
            return i;
          }
        }
      }
      default -> {
        return -1;
      }
    }
    return -1;
  }

  /** The flat index of the first NaN or infinite element of {@code v}, or -1. */
  public static int firstNonFinite(float[] v) {
    for (int i = 0; i < v.length; i++) {
      if (!Float.isFinite(v[i])) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Refuses a file with a NaN or infinite value in any floating-point tensor.
   *
   * @throws CheckpointFormatException naming the file, the tensor and the element
   */
  public static void requireFinite(SafeTensorsFile f) throws CheckpointFormatException {
    for (String name : f.names()) {
      HostTensor t = f.get(name);
      long i = firstNonFinite(t);
      if (i >= 0) {
        throw new CheckpointFormatException(
            f.path()
                + ": tensor '"
                + SafeText.of(name)
                + "' holds a non-finite value ("
                + describe(t, i)
                + " at flat index "
                + i
                + "); the file is damaged or came from a diverged training run, "
                + "so it is refused");
      }
    }
  }

  private static String describe(HostTensor t, long i) {
    MemorySegment d = t.data();
    double v =
        switch (t.dtype()) {
          case FLOAT32 -> Float.intBitsToFloat(d.get(I32, i * 4));
          case FLOAT64 -> Double.longBitsToDouble(d.get(I64, i * 8));
          case FLOAT16 -> Float.float16ToFloat(d.get(I16, i * 2));
          case BFLOAT16 -> Float.intBitsToFloat((d.get(I16, i * 2) & 0xffff) << 16);
          default -> 0;
        };
    return String.valueOf(v);
  }
}
