package dev.rectok.torch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The CPU's instruction-set flags as the kernel reports them ({@code /proc/cpuinfo}), for the
 * precision choice of issue 13: whether bfloat16 GEMMs run natively (AVX-512 BF16 or AMX) or would
 * be emulated and slower than float32. Immutable and thread-safe.
 *
 * <p>{@link #detect()} can be overridden with {@code -Drectok.cpuFlags=flag,flag,...} (or the
 * environment variable {@code RECTOK_CPU_FLAGS}): tests and users simulate another CPU with it, for
 * example to see the refusal on a machine without bf16 support.
 *
 * @param flags lower-case flag names, e.g. {@code avx512_bf16}
 * @param source where they came from ({@code /proc/cpuinfo}, the override, or "unknown")
 */
public record CpuFeatures(Set<String> flags, String source) {

  /** Copies the flags (lower-cased). */
  public CpuFeatures {
    TreeSet<String> lower = new TreeSet<>();
    flags.forEach(f -> lower.add(f.toLowerCase(Locale.ROOT)));
    flags = java.util.Collections.unmodifiableSet(lower);
  }

  /** Flags from a list, e.g. {@code of("avx2", "fma")}, labelled as simulated. */
  public static CpuFeatures of(String... flags) {
    return new CpuFeatures(new TreeSet<>(Arrays.asList(flags)), "simulated");
  }

  private static volatile CpuFeatures detected;

  /**
   * The override described above (read on every call, so a test can set and clear it), else the
   * flags of this machine's first CPU (read once).
   */
  public static CpuFeatures detect() {
    String override = System.getProperty("rectok.cpuFlags", System.getenv("RECTOK_CPU_FLAGS"));
    if (override != null) {
      return new CpuFeatures(
          new TreeSet<>(Arrays.asList(override.trim().split("[,\\s]+"))),
          "-Drectok.cpuFlags / RECTOK_CPU_FLAGS");
    }
    CpuFeatures d = detected;
    if (d == null) {
      d = probe();
      detected = d;
    }
    return d;
  }

  private static CpuFeatures probe() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("flags")) {
          int colon = line.indexOf(':');
          return new CpuFeatures(
              new TreeSet<>(Arrays.asList(line.substring(colon + 1).trim().split("\\s+"))),
              "/proc/cpuinfo");
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or no procfs: nothing is known, so no bf16 is assumed
    }
    return new CpuFeatures(Set.of(), "unknown");
  }

  /** Whether the flag is present. */
  public boolean has(String flag) {
    return flags.contains(flag.toLowerCase(Locale.ROOT));
  }

  /**
   * Native bfloat16 dot products: AVX-512 BF16 ({@code avx512_bf16}, with the AVX-512 BW/VL/DQ
   * subsets that oneDNN's bf16 matmul requires, see {@code mkldnn_bf16_device_check}) or AMX
   * ({@code amx_bf16}).
   */
  public boolean hasNativeBf16() {
    boolean avx512Bf16 =
        has("avx512_bf16") && has("avx512bw") && has("avx512vl") && has("avx512dq");
    return avx512Bf16 || has("amx_bf16");
  }

  /** One line for {@code rectok doctor}. */
  public String bf16Summary() {
    if (has("amx_bf16")) {
      return "AMX bf16 (native)";
    }
    if (hasNativeBf16()) {
      return "AVX-512 BF16 (native)";
    }
    return "none (bf16 would be emulated: slower than fp32)";
  }
}
