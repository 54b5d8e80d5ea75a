package dev.rectok.models;

import dev.rectok.api.Device;
import dev.rectok.api.NativeMemory;
import dev.rectok.api.RuntimeInfo;
import dev.rectok.api.Tokenizer;
import dev.rectok.api.spi.Backend;
import dev.rectok.torch.Torch;
import dev.rectok.torch.internal.NativeLibrary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The LibTorch {@link Backend}, registered as a JPMS service. It lives with the models it opens, so
 * the binding packages ({@code dev.rectok.torch.*}) never depend on {@code dev.rectok.models}.
 * Stateless; thread-safe.
 */
public final class TorchBackend implements Backend {

  @Override
  public String name() {
    return "libtorch";
  }

  @Override
  public int priority() {
    return 100;
  }

  @Override
  public RuntimeInfo runtimeInfo() {
    Map<String, String> facts = new LinkedHashMap<>();
    facts.put("java", Runtime.version() + " (" + System.getProperty("java.vendor") + ")");
    Module m = TorchBackend.class.getModule();
    facts.put(
        "native access",
        m.isNativeAccessEnabled()
            ? "enabled for " + (m.isNamed() ? m.getName() : "ALL-UNNAMED")
            : "NOT enabled: add --enable-native-access="
                + (m.isNamed() ? m.getName() : "ALL-UNNAMED"));
    facts.put("shim", NativeLibrary.path() + " (" + NativeLibrary.source() + ")");
    facts.put("shim ABI", String.valueOf(Torch.abiVersion()));
    String version = Torch.version();
    facts.put("libtorch", version);
    facts.put("libtorch path", mappedLibraries("libtorch_cpu"));
    String blas = mappedLibraries("blas");
    facts.put(
        "BLAS",
        blas.contains("openblas")
            ? blas
            : blas
                + "  (reference BLAS: matmul ~30x slower; apt-get install libopenblas0-pthread)");
    facts.put(
        "intra-op threads",
        Torch.numThreads() + " of " + Runtime.getRuntime().availableProcessors() + " cores");
    facts.put("runtime defaults", NativeLibrary.runtimeDefaults());
    facts.put(
        "OMP_WAIT_POLICY",
        Objects.requireNonNullElse(System.getenv("OMP_WAIT_POLICY"), "PASSIVE (set by rectok)"));
    facts.put(
        "OPENBLAS_NUM_THREADS",
        Objects.requireNonNullElse(System.getenv("OPENBLAS_NUM_THREADS"), "unset (= cores)"));
    int cuda = Torch.cudaDeviceCount();
    facts.put("CUDA devices", cuda == 0 ? "none" : String.valueOf(cuda));
    // --- issue 13: weights packed once ---
    String packing = Torch.linearPacking(dev.rectok.api.DType.BFLOAT16);
    facts.put(
        "bf16 packed weights",
        packing.isEmpty()
            ? "unavailable (oneDNN re-blocks bf16 weights in every call; LibTorch 1.13 with "
                + "libdnnl-dev on an AVX-512 BF16 CPU has it)"
            : dev.rectok.torch.nn.InferencePrecision.packingEnabled(dev.rectok.api.DType.BFLOAT16)
                ? "on: oneDNN " + packing + " (off: -Drectok.packWeights=false)"
                : "off (-Drectok.packWeights=false); oneDNN " + packing + " available");
    // --- issue 13: precision ---
    dev.rectok.torch.CpuFeatures cpu = dev.rectok.torch.CpuFeatures.detect();
    facts.put(
        "bf16 on this CPU",
        cpu.bf16Summary()
            + " (flags from "
            + cpu.source()
            + "); --precision auto = "
            + dev.rectok.torch.nn.InferencePrecision.resolve(
                    dev.rectok.api.Precision.AUTO, Device.CPU, cpu)
                .torchName()
            + " on cpu");
    facts.put(
        "ATEN_CPU_CAPABILITY",
        Objects.requireNonNullElse(
            System.getenv("ATEN_CPU_CAPABILITY"),
            "unset (LibTorch's default kernels; avx512 measured slower here, see bench/README.md)"));
    return new RuntimeInfo(name(), version, cuda, facts);
  }

  @Override
  public Tokenizer openTokenizer(Path modelFile, Device device) throws IOException {
    return RecTokTokenizer.open(modelFile, device);
  }

  // --- issue 13: precision ---
  @Override
  public Tokenizer openTokenizer(Path modelFile, Device device, dev.rectok.api.Precision precision)
      throws IOException {
    return dev.rectok.models.RecTokTokenizer.open(modelFile, device, precision);
  }

  /** Live tensor handles, leak reports and the process's resident set (from /proc/self/status). */
  @Override
  public NativeMemory nativeMemory() {
    return new NativeMemory(
        dev.rectok.torch.Tensor.liveHandles(),
        dev.rectok.torch.Tensor.leaksReported(),
        residentBytes());
  }

  /** VmRSS in bytes, or -1 where /proc is unavailable. */
  static long residentBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  /** Real paths of the mapped shared libraries whose name contains {@code needle}. */
  static String mappedLibraries(String needle) {
    TreeSet<String> found = new TreeSet<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
        int slash = line.indexOf('/');
        if (slash < 0) {
          continue;
        }
        String path = line.substring(slash);
        String file = path.substring(path.lastIndexOf('/') + 1);
        if (file.contains(needle) && file.contains(".so")) {
          try {
            found.add(Path.of(path).toRealPath().toString());
          } catch (IOException e) {
            found.add(path);
          }
        }
      }
    } catch (IOException e) {
      return "unknown (" + e.getMessage() + ")";
    }
    return found.isEmpty() ? "not loaded" : String.join(", ", found);
  }
}
