package dev.rectok.torch.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading failures as an application meets them: named, with the fix, the same on every call. */
class NativeLibraryLoadingTest {

  @TempDir Path tmp;

  @Test
  void anUnwritableCacheFallsBackToTheNextDirectory() throws IOException {
    Path blocked =
        Files.writeString(
            tmp.resolve("not-a-directory"), "x"); // a file: no directory can go under it
    Path fallback = tmp.resolve("tmp-fallback");
    byte[] lib = "pretend shim".getBytes(StandardCharsets.UTF_8);
    Path out = NativeLibrary.extract(lib, List.of(blocked, fallback));
    assertThat(out).startsWith(fallback).hasFileName("librectok_torch.so");
    assertThat(Files.readAllBytes(out)).isEqualTo(lib);
    // a second extraction reuses the same content-addressed copy
    assertThat(NativeLibrary.extract(lib, List.of(blocked, fallback))).isEqualTo(out);
    assertThatThrownBy(() -> NativeLibrary.extract(lib, List.of(blocked)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(blocked.toString())
        .hasMessageContaining("-Drectok.native.cache=");
    assertThat(NativeLibrary.cacheDirectories().getLast().toString())
        .startsWith(System.getProperty("java.io.tmpdir"));
  }

  @Test
  void anotherPlatformIsNamedBeforeAnyLoad() {
    assertThatThrownBy(() -> NativeLibrary.checkPlatform("Mac OS X", "aarch64"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("linux-x86_64")
        .hasMessageContaining("Mac OS X aarch64")
        .hasMessageContaining("-Drectok.native.lib");
    NativeLibrary.checkPlatform("Linux", "amd64");
  }

  /**
   * In a fresh JVM (the library loads once per process): a broken library fails the same way twice.
   */
  @Test
  void aBrokenLibraryGivesTheSameIllegalStateExceptionOnEveryCall() throws Exception {
    Path fake = Files.writeString(tmp.resolve("librectok_torch.so"), "not an ELF file");
    String cp = String.join(File.pathSeparator, classPath());
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-Drectok.native.lib=" + fake,
                "-cp",
                cp,
                LoadFailureProbe.class.getName())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    List<String> lines = out.lines().filter(l -> l.startsWith("call ")).toList();
    assertThat(lines).hasSize(2);
    for (String l : lines) {
      assertThat(l)
          .contains("java.lang.IllegalStateException")
          .contains(fake.toString())
          .contains("libtorch-dev")
          .containsAnyOf("invalid ELF header", "file too short")
          .contains("cause=java.lang.IllegalArgumentException");
    }
    assertThat(lines.get(0).substring(7)).isEqualTo(lines.get(1).substring(7));
  }

  private static List<String> classPath() {
    List<String> cp = new ArrayList<>();
    for (String prop : new String[] {"jdk.module.path", "java.class.path"}) {
      String v = System.getProperty(prop);
      if (v != null && !v.isBlank()) {
        cp.addAll(List.of(v.split(File.pathSeparator)));
      }
    }
    return cp;
  }
}
