package dev.rectok.imagej;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's install path on a real ImageJ: the plugin jar in {@code plugins/}, the SDK's jars in
 * {@code plugins/jars/}, ImageJ alone on the launcher's class path, and the commands run by their
 * menu names. No context-class-loader workaround anywhere.
 */
class PluginsFolderTest {
  @TempDir Path imagej;

  @Test
  void thePluginRunsFromAPluginsFolderThroughImageJsOwnClassLoader() throws Exception {
    Path plugins = Files.createDirectories(imagej.resolve("plugins"));
    Path jars = Files.createDirectories(plugins.resolve("jars"));
    String ijJar = null;
    Path testClasses = null;
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path p = Path.of(entry);
      String s = p.toString();
      if (s.contains("/net/imagej/ij/")) {
        ijJar = s;
      } else if (s.endsWith("test-classes")) {
        testClasses = p;
      } else if (s.endsWith("samples/imagej/target/classes")) {
        jar(p, plugins.resolve("RecTok_Plugin.jar"));
      } else if (s.contains("rectok-")
          || s.contains("/samples/models/")
          || s.contains("jackson")
          || s.contains("/com/google/")) {
        if (Files.isDirectory(p)) {
          jar(p, jars.resolve(p.getParent().getParent().getFileName() + ".jar"));
        } else {
          Files.copy(p, jars.resolve(p.getFileName()));
        }
      }
    }
    assertThat(ijJar).isNotNull();
    assertThat(Files.list(plugins).map(Path::getFileName).map(Path::toString))
        .contains("RecTok_Plugin.jar");
    // only ImageJ and the probe on the launcher's class path
    Path probe = Files.createDirectories(imagej.resolve("probe/dev/rectok/imagej"));
    Files.copy(
        testClasses.resolve("dev/rectok/imagej/ImageJProbe.class"),
        probe.resolve("ImageJProbe.class"));
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-Djava.awt.headless=true",
                "-Xmx512m",
                "-Dplugins.dir="
                    + imagej, // the shim bundled in the rectok-native jar, extracted as for a user
                // (into this test's folder)
                "-Drectok.native.cache=" + imagej.resolve("cache"),
                "-cp",
                ijJar + File.pathSeparator + imagej.resolve("probe"),
                ImageJProbe.class.getName()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out)
        .as(out)
        .contains("contextLoaderSeesSdk=false")
        .contains("reconstruct=ramp (RecTok)|45x37|type0")
        .contains("generate=RecTok class 3 seed 1|32x32|type4")
        .contains("sdkLoader=ij.io.PluginClassLoader")
        .contains("pluginLoader=ij.io.PluginClassLoader")
        .doesNotContain("Exception");
    try (Stream<Path> extracted = Files.walk(imagej.resolve("cache"))) {
      assertThat(extracted.map(Path::getFileName).map(Path::toString))
          .contains("librectok_torch.so");
    }
  }

  private static void jar(Path dir, Path jar) throws IOException {
    try (OutputStream os = Files.newOutputStream(jar);
        JarOutputStream out = new JarOutputStream(os);
        Stream<Path> files = Files.walk(dir)) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        out.putNextEntry(
            new JarEntry(dir.relativize(f).toString().replace(File.separatorChar, '/')));
        Files.copy(f, out);
        out.closeEntry();
      }
    }
  }
}
