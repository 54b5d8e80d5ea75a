package dev.rectok.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The SDK logs through {@code System.Logger}: an application with no logging setup gets no provider
 * nag and no routine chatter, but sees leak reports by default.
 */
class LoggingTest {
  @Test
  void noNagNoChatterButLeakReportsAreVisible() throws Exception {
    String cp = System.getProperty("java.class.path");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-Drectok.native.lib=" + System.getProperty("rectok.native.lib"),
                "-cp",
                cp,
                LoggingProbe.class.getName())
            .redirectErrorStream(false)
            .start();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out + err).isZero();
    assertThat(out).contains("opened 32").contains("leaks 1");
    assertThat(err)
        .as(err)
        .contains("WARNING")
        .contains("a tensor was never closed")
        .doesNotContain("SLF4J")
        .doesNotContain("INFO");
    assertThat(cp.split(File.pathSeparator)).noneMatch(e -> e.contains("slf4j"));
  }
}
