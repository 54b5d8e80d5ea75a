package dev.rectok.torch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.module.ModuleDescriptor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The module's boundaries: the binding ({@code dev.rectok.torch.*}) is a layer below the models and
 * never names them, and parity infrastructure is exported only to the modules that replay goldens.
 */
class BoundariesTest {
  private static final Path CLASSES =
      Path.of(System.getProperty("rectok.classes", "target/classes"));

  /** Binary names of the models' packages as they appear in a class file's constant pool. */
  private static final String MODELS = "dev/rectok/models/";

  @Test
  void theBindingPackagesNeverReferToTheModels() throws IOException {
    Path torch = CLASSES.resolve("dev/rectok/torch");
    assertThat(torch).isDirectory();
    List<String> offenders = new ArrayList<>();
    int classes = 0;
    try (Stream<Path> files = Files.walk(torch)) {
      for (Path p : files.filter(f -> f.toString().endsWith(".class")).toList()) {
        classes++;
        if (new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1).contains(MODELS)) {
          offenders.add(torch.relativize(p).toString());
        }
      }
    }
    assertThat(classes).as("classes scanned").isGreaterThan(50);
    assertThat(offenders).as("classes of dev.rectok.torch.* that name dev.rectok.models").isEmpty();
  }

  /** The scan above must be able to fail: a class naming a model type is caught. */
  @Test
  void theScanSeesAReferenceToTheModels() throws IOException {
    Path backend = CLASSES.resolve("dev/rectok/models/TorchBackend.class");
    String bytes = new String(Files.readAllBytes(backend), StandardCharsets.ISO_8859_1);
    assertThat(bytes).contains(MODELS + "RecTokTokenizer");
  }

  @Test
  void goldenReplayIsExportedOnlyToTheModulesThatReplayGoldens() {
    ModuleDescriptor d = Tensor.class.getModule().getDescriptor();
    if (d == null) {
      throw new AssertionError("dev.rectok.torch must run as a named module for this test");
    }
    Map<String, Set<String>> exports =
        d.exports().stream()
            .collect(
                Collectors.toMap(
                    ModuleDescriptor.Exports::source, ModuleDescriptor.Exports::targets));
    assertThat(exports.get("dev.rectok.models.golden"))
        .containsExactlyInAnyOrder(
            "dev.rectok.generate",
            "dev.rectok.train",
            "dev.rectok.cli",
            "com.fasterxml.jackson.databind");
    assertThat(exports.get("dev.rectok.torch")).isEmpty(); // unqualified
    assertThat(exports).doesNotContainKey("dev.rectok.torch.internal");
  }
}
