package dev.rectok.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.spi.Backend;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Service lookup as a plugin host sees it: providers in a class loader of their own, the one
 * priority rule, and a failure message that lists where it searched.
 */
class BackendsTest {

  @TempDir Path tmp;

  /**
   * Compiles two Backend providers (priorities 5 and 50) into {@code dir}, registered as services.
   */
  private Path providers(Path dir, String... priorities) throws Exception {
    Path src = dir.resolve("src/fake");
    Files.createDirectories(src);
    StringBuilder services = new StringBuilder();
    for (String p : priorities) {
      String cls = "P" + p;
      Files.writeString(
          src.resolve(cls + ".java"),
          """
          package fake;
          public class %s implements dev.rectok.api.spi.Backend {
            public String name() { return "%s"; }
            public int priority() { return %s; }
            public dev.rectok.api.RuntimeInfo runtimeInfo() { throw new UnsupportedOperationException(); }
            public dev.rectok.api.Tokenizer openTokenizer(java.nio.file.Path f, dev.rectok.api.Device d) {
              throw new UnsupportedOperationException();
            }
          }
          """
              .formatted(cls, cls, p));
      services.append("fake.").append(cls).append('\n');
    }
    Path classes = dir.resolve("classes");
    Files.createDirectories(classes.resolve("META-INF/services"));
    Files.writeString(classes.resolve("META-INF/services/dev.rectok.api.spi.Backend"), services);
    Path api = Path.of(Backend.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    ToolProvider javac = ToolProvider.findFirst("javac").orElseThrow();
    List<String> args =
        new java.util.ArrayList<>(List.of("-d", classes.toString(), "-cp", api.toString()));
    try (var files = Files.list(src)) {
      files.forEach(f -> args.add(f.toString()));
    }
    assertThat(javac.run(System.out, System.err, args.toArray(String[]::new))).isZero();
    return classes;
  }

  @Test
  void aPluginsOwnClassLoaderIsSearchedAndThePriorityRuleHolds() throws Exception {
    Path classes = providers(tmp, "5", "50", "20");
    try (URLClassLoader plugin =
        new URLClassLoader(
            "plugin", new URL[] {classes.toUri().toURL()}, BackendsTest.class.getClassLoader())) {
      // the thread's context loader cannot see the plugin's providers; the explicit loader can
      assertThat(Backends.all(ClassLoader.getPlatformClassLoader()).stream().map(Backend::name))
          .doesNotContain("P50");
      assertThat(Backends.all(plugin).stream().map(Backend::name))
          .containsSubsequence("P50", "P20", "P5");
      assertThat(Backends.load(plugin).name()).isEqualTo("P50");
      assertThat(Backends.load(plugin).getClass().getClassLoader()).isSameAs(plugin);
    }
  }

  @Test
  void theMessageNamesTheArtifactAndEverywhereItSearched() throws IOException {
    try (URLClassLoader empty =
        new URLClassLoader(
            "empty-plugin",
            new URL[] {tmp.toUri().toURL()},
            ClassLoader.getPlatformClassLoader())) {
      assertThatThrownBy(() -> Backends.load(empty))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("dev.rectok:rectok-native")
          .hasMessageContaining("empty-plugin")
          .hasMessageContaining(tmp.toUri().toURL().toString())
          .hasMessageContaining("the API's own class loader");
      assertThatThrownBy(() -> Backends.generators(empty))
          .hasMessageContaining("dev.rectok:rectok-generate");
      assertThatThrownBy(() -> Backends.trainers(empty))
          .hasMessageContaining("dev.rectok:rectok-train");
    }
  }

  @Test
  void aMissingResourceIsNamedWithItsLoader() throws IOException {
    try (URLClassLoader empty =
        new URLClassLoader("models", new URL[] {tmp.toUri().toURL()}, null)) {
      assertThatThrownBy(
              () -> Backends.openTokenizerResource("nope/tokenizer.safetensors", empty, Device.CPU))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("nope/tokenizer.safetensors")
          .hasMessageContaining("models");
    }
  }
}
