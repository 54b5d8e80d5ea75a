package dev.rectok.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The README's "Using it as a Maven dependency" blocks are the consumer project that the build
 * installs against and runs (src/it/app), character for character: the snippet cannot rot.
 */
class ReadmeSnippetTest {
  private static final Path ROOT =
      Path.of(System.getProperty("rectok.golden.dir")).toAbsolutePath().getParent().getParent();
  private static final Path APP = ROOT.resolve("samples/consumer/src/it/app");

  /** Fenced blocks of {@code lang} in the README section titled {@code title}. */
  static List<String> blocks(String title, String lang) throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"));
    int start = readme.indexOf("\n## " + title + "\n");
    assertThat(start).as("README section " + title).isPositive();
    int end = readme.indexOf("\n## ", start + 4);
    String section = readme.substring(start, end < 0 ? readme.length() : end);
    List<String> out = new ArrayList<>();
    int i = 0;
    while ((i = section.indexOf("```" + lang + "\n", i)) >= 0) {
      int from = i + lang.length() + 4;
      int to = section.indexOf("\n```", from);
      out.add(section.substring(from, to + 1));
      i = to + 4;
    }
    return out;
  }

  @Test
  void theReadmesPomAndModuleInfoAreTheProjectTheBuildVerifies() throws IOException {
    String version = System.getProperty("rectok.version", "0.1.0-SNAPSHOT");
    List<String> xml = blocks("Using it as a Maven dependency", "xml");
    List<String> java = blocks("Using it as a Maven dependency", "java");
    String pom = Files.readString(APP.resolve("pom.xml")).replace("@project.version@", version);
    assertThat(xml).contains(pom.substring(pom.indexOf("<project")));
    assertThat(java).contains(Files.readString(APP.resolve("src/main/java/module-info.java")));
    assertThat(java)
        .contains(Files.readString(APP.resolve("src/main/java/com/example/app/Main.java")));
  }
}
