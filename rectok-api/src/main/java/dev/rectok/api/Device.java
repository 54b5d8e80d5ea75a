package dev.rectok.api;

import java.util.Objects;

/**
 * A compute device in PyTorch syntax: {@code cpu}, {@code cuda}, {@code cuda:0}.
 *
 * <p>An immutable value; thread-safe. Whether the device exists is checked by the backend when a
 * tensor is placed on it, not here.
 *
 * @param type the device kind
 * @param index the device ordinal, or -1 for "the current device of that kind"
 */
public record Device(Type type, int index) {

  /** Device kinds supported by the native layer. */
  public enum Type {
    /** The host CPU. */
    CPU,
    /** An NVIDIA GPU through CUDA. */
    CUDA
  }

  /** The CPU. */
  public static final Device CPU = new Device(Type.CPU, -1);

  /** Validates the kind and index. */
  public Device {
    Objects.requireNonNull(type, "type");
    if (index < -1) {
      throw new IllegalArgumentException(
          "device index must be >= 0 (or -1 for the current one), got " + index);
    }
    if (type == Type.CPU && index > 0) {
      throw new IllegalArgumentException("cpu has no device index " + index);
    }
  }

  /**
   * The CPU device.
   *
   * @return {@link #CPU}
   */
  public static Device cpu() {
    return CPU;
  }

  /**
   * CUDA device {@code index}.
   *
   * @param index the device ordinal (0 for the first GPU)
   * @return the device
   */
  public static Device cuda(int index) {
    return new Device(Type.CUDA, index);
  }

  /**
   * Parses PyTorch device syntax: {@code cpu}, {@code cuda}, {@code cuda:N}.
   *
   * @throws IllegalArgumentException with the offending text for anything else
   * @param spec the text, e.g. {@code cuda:1}
   * @return the device
   */
  public static Device parse(String spec) {
    Objects.requireNonNull(spec, "device");
    String s = spec.trim();
    if (s.equals("cpu") || s.equals("cpu:0")) {
      return CPU;
    }
    if (s.equals("cuda")) {
      return new Device(Type.CUDA, -1);
    }
    if (s.startsWith("cuda:")) {
      String n = s.substring(5);
      if (!n.isEmpty() && n.chars().allMatch(Character::isDigit) && n.length() < 6) {
        return new Device(Type.CUDA, Integer.parseInt(n));
      }
    }
    throw new IllegalArgumentException(
        "invalid device '" + spec + "': expected cpu, cuda or cuda:N (PyTorch syntax)");
  }

  /**
   * True for CUDA devices.
   *
   * @return whether this is a CUDA device
   */
  public boolean isCuda() {
    return type == Type.CUDA;
  }

  @Override
  public String toString() {
    if (type == Type.CPU) {
      return "cpu";
    }
    return index < 0 ? "cuda" : "cuda:" + index;
  }
}
