package dev.rectok.api.spi;

import dev.rectok.api.Device;
import dev.rectok.api.Generator;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;

/**
 * Service interface for opening generators (module {@code dev.rectok.generate} provides one), so an
 * application that only needs the API finds the implementation on the module path. Implementations
 * are stateless and thread-safe.
 */
public interface GeneratorProvider {

  /**
   * Opens a generator model file and, optionally, its AutoGuidance companion on {@code device}.
   *
   * @param model the generator's model file
   * @param guide the guide's model file, or null for none
   * @param device where the models run
   * @return the generator, owned by the caller
   * @throws IOException for a missing, malformed or wrong-kind file
   */
  Generator openGenerator(Path model, Path guide, Device device) throws IOException;

  /**
   * Higher wins when several providers are installed (the same rule as {@link Backend#priority()}).
   *
   * @return the priority; 0 unless overridden
   */
  default int priority() {
    return 0;
  }

  /**
   * Opens a generator, and optionally its guide, from streams (read to the end, not closed),
   * through temporary files deleted once the models are loaded.
   *
   * @param model the generator's model bytes
   * @param guide the guide's bytes, or null for none
   * @param device where the models run
   * @return the generator, owned by the caller
   * @throws IOException for an unreadable stream or malformed or wrong-kind model bytes
   */
  default Generator openGenerator(InputStream model, InputStream guide, Device device)
      throws IOException {
    return ModelStreams.viaTempFile(
        model,
        "generator",
        m ->
            guide == null
                ? openGenerator(m, null, device)
                : ModelStreams.viaTempFile(guide, "guide", g -> openGenerator(m, g, device)));
  }
}
