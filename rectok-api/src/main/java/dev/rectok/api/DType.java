package dev.rectok.api;

import java.util.Locale;

/**
 * Element types, named as in PyTorch ({@code torch.float32} is {@link #FLOAT32}).
 *
 * <p>{@link #code()} is the stable numbering of the native ABI ({@code RT_F32} ... in {@code
 * rectok_torch.h}); it is not {@code c10::ScalarType}. Immutable and thread-safe.
 */
public enum DType {
  /** 32-bit IEEE float ({@code torch.float32}). */
  FLOAT32(0, 4, "F32", "float32"),
  /** 64-bit IEEE float ({@code torch.float64}). */
  FLOAT64(1, 8, "F64", "float64"),
  /** 16-bit IEEE float ({@code torch.float16}). */
  FLOAT16(2, 2, "F16", "float16"),
  /** bfloat16 ({@code torch.bfloat16}). */
  BFLOAT16(3, 2, "BF16", "bfloat16"),
  /** 64-bit signed integer ({@code torch.int64}). */
  INT64(4, 8, "I64", "int64"),
  /** 32-bit signed integer ({@code torch.int32}). */
  INT32(5, 4, "I32", "int32"),
  /** 16-bit signed integer ({@code torch.int16}). */
  INT16(6, 2, "I16", "int16"),
  /** 8-bit signed integer ({@code torch.int8}). */
  INT8(7, 1, "I8", "int8"),
  /** 8-bit unsigned integer ({@code torch.uint8}). */
  UINT8(8, 1, "U8", "uint8"),
  /** Boolean ({@code torch.bool}). */
  BOOL(9, 1, "BOOL", "bool");

  private final int code;
  private final int byteSize;
  private final String safetensorsName;
  private final String torchName;

  DType(int code, int byteSize, String safetensorsName, String torchName) {
    this.code = code;
    this.byteSize = byteSize;
    this.safetensorsName = safetensorsName;
    this.torchName = torchName;
  }

  /**
   * The ABI code of this dtype.
   *
   * @return the shim's numeric code
   */
  public int code() {
    return code;
  }

  /**
   * Bytes per element.
   *
   * @return bytes per element
   */
  public int byteSize() {
    return byteSize;
  }

  /**
   * The dtype string used in safetensors headers ({@code "F32"}, {@code "BF16"}, ...).
   *
   * @return the safetensors header name, e.g. {@code F32}
   */
  public String safetensorsName() {
    return safetensorsName;
  }

  /**
   * The PyTorch name without the {@code torch.} prefix ({@code "float32"}).
   *
   * @return the PyTorch name, e.g. {@code float32}
   */
  public String torchName() {
    return torchName;
  }

  /**
   * True for the floating-point types.
   *
   * @return whether the type holds floating-point values
   */
  public boolean isFloatingPoint() {
    return this == FLOAT32 || this == FLOAT64 || this == FLOAT16 || this == BFLOAT16;
  }

  /**
   * The dtype with the given ABI code.
   *
   * @param code the shim's numeric code
   * @return the type
   */
  public static DType fromCode(int code) {
    for (DType d : values()) {
      if (d.code == code) {
        return d;
      }
    }
    throw new IllegalArgumentException("unknown dtype code " + code);
  }

  /**
   * The dtype with the given safetensors name ({@code "F32"}), or an exception naming it.
   *
   * @param name the safetensors header name
   * @return the type
   */
  public static DType fromSafetensorsName(String name) {
    for (DType d : values()) {
      if (d.safetensorsName.equals(name)) {
        return d;
      }
    }
    throw new IllegalArgumentException("unsupported safetensors dtype '" + name + "'");
  }

  /**
   * Parses a PyTorch name, with or without {@code torch.}: {@code float32}, {@code bf16} too.
   *
   * @param name a PyTorch name
   * @return the type
   */
  public static DType parse(String name) {
    String n = name.toLowerCase(Locale.ROOT).trim();
    if (n.startsWith("torch.")) {
      n = n.substring(6);
    }
    return switch (n) {
      case "float32", "float", "f32", "fp32" -> FLOAT32;
      case "float64", "double", "f64", "fp64" -> FLOAT64;
      case "float16", "half", "f16", "fp16" -> FLOAT16;
      case "bfloat16", "bf16" -> BFLOAT16;
      case "int64", "long", "i64" -> INT64;
      case "int32", "int", "i32" -> INT32;
      case "int16", "short", "i16" -> INT16;
      case "int8", "i8" -> INT8;
      case "uint8", "u8" -> UINT8;
      case "bool" -> BOOL;
      default -> throw new IllegalArgumentException("unknown dtype '" + name + "'");
    };
  }

  @Override
  public String toString() {
    return "torch." + torchName;
  }
}
