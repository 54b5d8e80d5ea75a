package dev.rectok.models;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The shipped Fashion-MNIST demo models (32 × 32, 4 × 4 × 32 latents), found from the golden
 * folder's checkout.
 */
final class DemoModel {
  private DemoModel() {}

  /** samples/models/fashion-mnist/{@code name}; fails (never skips) when the checkout lacks it. */
  static Path file(String name) {
    Path root =
        Path.of(System.getProperty("rectok.golden.dir")).toAbsolutePath().getParent().getParent();
    Path f = root.resolve("samples/models/fashion-mnist").resolve(name);
    if (!Files.isRegularFile(f)) {
      throw new IllegalStateException("demo model missing: " + f);
    }
    return f;
  }
}
