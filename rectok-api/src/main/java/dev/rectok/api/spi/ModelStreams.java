package dev.rectok.api.spi;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Objects;

/**
 * Opens a model from a stream by way of a private temporary file: model files are memory-mapped and
 * validated as files, and a stream (a jar entry, a URL) has no file behind it. The file is deleted
 * as soon as the model is loaded (the loaded model holds no reference to it). Stateless.
 */
final class ModelStreams {
  private ModelStreams() {}

  /** What to do with the temporary file once it holds the stream's bytes. */
  @FunctionalInterface
  interface Opener<T> {
    T open(Path file) throws IOException;
  }

  static <T> T viaTempFile(InputStream in, String what, Opener<T> opener) throws IOException {
    Objects.requireNonNull(in, what);
    Path tmp = Files.createTempFile("rectok-" + what + "-", ".safetensors");
    try {
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      return opener.open(tmp);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
