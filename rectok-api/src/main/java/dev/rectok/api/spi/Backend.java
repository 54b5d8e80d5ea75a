package dev.rectok.api.spi;

import dev.rectok.api.Device;
import dev.rectok.api.RuntimeInfo;
import dev.rectok.api.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Service interface of a compute backend (the LibTorch backend in module {@code dev.rectok.torch}
 * provides one). Applications do not implement it; they obtain the installed one with
 * {@link dev.rectok.api.Backends#load()}.
 *
 * <p>Implementations are thread-safe singletons; they own the native runtime for the life of
 * the process.
 */
public interface Backend {

  /** A short, stable name, e.g. {@code "libtorch"}. */
  String name();

  /** Higher wins when several backends are installed. */
  default int priority() {
    return 0;
  }

  /**
   * Loads the native runtime if needed and describes it (versions, paths, threads, devices).
   *
   * @throws IllegalStateException with a remedy when the native runtime cannot be loaded
   */
  RuntimeInfo runtimeInfo();

  /**
   * Opens a tokenizer model file (as written by {@code rectok convert}) on {@code device}.
   *
   * @throws IOException for a missing, malformed or wrong-kind file
   */
  Tokenizer openTokenizer(Path modelFile, Device device) throws IOException;

  // --- issue 13: precision ---
  /**
   * Opens a tokenizer model file on {@code device} for inference in {@code precision}: with a
   * resolved bf16 the GEMM weights are converted once here. The default implementation supports
   * {@link dev.rectok.api.Precision#FP32} only.
   *
   * @throws IOException for a missing, malformed or wrong-kind file
   * @throws IllegalArgumentException when {@code precision} is not supported on {@code device}
   */
  default Tokenizer openTokenizer(Path modelFile, Device device, dev.rectok.api.Precision precision)
      throws IOException {
    if (precision != dev.rectok.api.Precision.FP32) {
      throw new IllegalArgumentException("backend " + name() + " supports only fp32 tokenizers, not " + precision);
    }
    return openTokenizer(modelFile, device);
  }
}
