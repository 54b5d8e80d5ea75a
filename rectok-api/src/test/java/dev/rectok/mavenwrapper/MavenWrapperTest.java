package dev.rectok.mavenwrapper;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repository's own {@code mvnw}: it picks a Maven at least the pinned version, never downloads,
 * and its pin agrees with the enforcer's lower bound in {@code pom.xml}.
 */
class MavenWrapperTest {
  private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();

  record Run(int exit, String out) {}

  /** A fake {@code mvn} that reports {@code version} and echoes its arguments. */
  private static Path fakeMaven(Path dir, String version) throws IOException {
    Path mvn = dir.resolve("mvn-" + version);
    Files.writeString(
        mvn,
        "#!/bin/sh\n"
            + "if [ \"$2\" = -v ]; then echo 'Apache Maven "
            + version
            + " (fake)'; exit 0; fi\n"
            + "echo \"fake maven ran: $*\"\n");
    Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));
    return mvn;
  }

  private static Run mvnw(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of(ROOT.resolve("mvnw").toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), out);
  }

  private static String pinned() throws IOException {
    Matcher m =
        Pattern.compile("(?m)^maven\\.version=([0-9.]+)$")
            .matcher(Files.readString(ROOT.resolve(".mvn/wrapper/maven-wrapper.properties")));
    assertThat(m.find()).as("maven.version line").isTrue();
    return m.group(1);
  }

  @Test
  void thePinEqualsTheEnforcersLowerBoundAndNamesNoDownload() throws IOException {
    Matcher m =
        Pattern.compile("<requireMavenVersion>\\s*<version>\\[([0-9.]+),\\)</version>")
            .matcher(Files.readString(ROOT.resolve("pom.xml")));
    assertThat(m.find()).as("requireMavenVersion in pom.xml").isTrue();
    assertThat(pinned()).isEqualTo(m.group(1));
    String props = Files.readString(ROOT.resolve(".mvn/wrapper/maven-wrapper.properties"));
    assertThat(props).doesNotContain("distributionUrl=").doesNotContain("://");
    assertThat(Files.readString(ROOT.resolve("mvnw"))).doesNotContain("://");
    assertThat(Files.isExecutable(ROOT.resolve("mvnw"))).isTrue();
  }

  @Test
  void aRecentEnoughMavenRunsWithTheArguments(@TempDir Path tmp) throws Exception {
    Path newer = fakeMaven(tmp, "9.0.1");
    Run r = mvnw(Map.of("MVNW_MAVEN", newer.toString(), "MVNW_INSTALL", "0"), "-B", "verify");
    assertThat(r.out()).contains("fake maven ran: -B verify");
    assertThat(r.exit()).isZero();
    Path same = fakeMaven(tmp, pinned());
    assertThat(mvnw(Map.of("MVNW_MAVEN", same.toString(), "MVNW_INSTALL", "0"), "x").out())
        .contains("fake maven ran: x");
  }

  @Test
  void anOlderMavenIsRefusedWithTheExactInstallLine(@TempDir Path tmp) throws Exception {
    Path old = fakeMaven(tmp, "3.6.10");
    Run r = mvnw(Map.of("MVNW_MAVEN", old.toString(), "MVNW_INSTALL", "0"), "verify");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.out())
        .contains("Maven " + pinned() + " or newer is needed (found: 3.6.10)")
        .contains("sudo apt-get install -y maven")
        .doesNotContain("fake maven ran");
  }
}
