package dev.rectok.generate;

import dev.rectok.api.Device;
import dev.rectok.api.Generator;
import dev.rectok.api.spi.GeneratorProvider;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The {@link GeneratorProvider} service of this module: DiT^DH model files. Stateless; thread-safe.
 */
public final class DiTGeneratorProvider implements GeneratorProvider {
  @Override
  public Generator openGenerator(Path model, Path guide, Device device) throws IOException {
    return DiTGenerator.open(model, guide, device);
  }
}
