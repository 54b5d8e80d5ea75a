package dev.rectok.api.spi;

import dev.rectok.api.Device;
import dev.rectok.api.NativeMemory;
import dev.rectok.api.RuntimeInfo;
import dev.rectok.api.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

/**
 * Service interface of a compute backend (the LibTorch backend in module {@code dev.rectok.torch}
 * provides one). Applications do not implement it; they obtain the installed one with {@link
 * dev.rectok.api.Backends#load()}.
 *
 * <p>Implementations are thread-safe singletons; they own the native runtime for the life of the
 * process.
 */
public interface Backend {

  /** {@return a short, stable name, e.g. {@code "libtorch"}} */
  String name();

  /**
   * Higher wins when several backends are installed: {@link dev.rectok.api.Backends} sorts every
   * kind of provider by priority, highest first (ties by class name).
   *
   * @return the priority; 0 unless overridden
   */
  default int priority() {
    return 0;
  }

  /**
   * Loads the native runtime if needed and describes it (versions, paths, threads, devices).
   *
   * @return the description
   * @throws IllegalStateException with a remedy when the native runtime cannot be loaded
   */
  RuntimeInfo runtimeInfo();

  /**
   * Opens a tokenizer model file (as written by {@code rectok convert}) on {@code device}.
   *
   * @param modelFile the model file, memory-mapped while it loads
   * @param device where the model runs
   * @return the tokenizer, owned by the caller
   * @throws IOException for a missing, malformed or wrong-kind file
   */
  Tokenizer openTokenizer(Path modelFile, Device device) throws IOException;

  // --- issue 13: precision ---
  /**
   * Opens a tokenizer model file on {@code device} for inference in {@code precision}: with a
   * resolved bf16 the GEMM weights are converted once here. The default implementation supports
   * {@link dev.rectok.api.Precision#FP32} only.
   *
   * @param modelFile the tokenizer's model file
   * @param device where the tokenizer runs
   * @param precision the inference arithmetic
   * @return the tokenizer; the caller owns it and closes it
   * @throws IOException for a missing, malformed or wrong-kind file
   * @throws IllegalArgumentException when {@code precision} is not supported on {@code device}
   */
  default Tokenizer openTokenizer(Path modelFile, Device device, dev.rectok.api.Precision precision)
      throws IOException {
    if (precision != dev.rectok.api.Precision.FP32) {
      throw new IllegalArgumentException(
          "backend " + name() + " supports only fp32 tokenizers, not " + precision);
    }
    return openTokenizer(modelFile, device);
  }

  /**
   * Opens a tokenizer model from a stream (a class-path resource, a URL), read to the end but not
   * closed. The bytes go through a temporary file that is deleted once the model is loaded.
   *
   * @param model the model file's bytes
   * @param device where the model runs
   * @return the tokenizer, owned by the caller
   * @throws IOException for an unreadable stream or malformed or wrong-kind model bytes
   */
  default Tokenizer openTokenizer(InputStream model, Device device) throws IOException {
    return ModelStreams.viaTempFile(model, "tokenizer", f -> openTokenizer(f, device));
  }

  /**
   * A snapshot of this backend's live native memory (see {@link NativeMemory}); a backend that
   * cannot tell reports -1 for each value.
   *
   * @return the snapshot
   */
  default NativeMemory nativeMemory() {
    return new NativeMemory(-1, -1, -1);
  }
}
