package dev.rectok.api.spi;

import dev.rectok.api.Device;
import dev.rectok.api.Generator;
import java.io.IOException;
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
   * @param guide the guide's model file, or null for none
   * @throws IOException for a missing, malformed or wrong-kind file
   */
  Generator openGenerator(Path model, Path guide, Device device) throws IOException;
}
