package dev.rectok.generate.golden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every public golden folder replays through the same engine as {@code rectok check-golden}. */
class GoldenReplayTest {
  private static final Path GOLDEN = Path.of(System.getProperty("rectok.golden.dir"));

  private static GoldenReplay.Result replay(String folder) throws IOException {
    GoldenReplay.Result r = GoldenReplay.run(GOLDEN.resolve(folder));
    r.checks().forEach(c -> System.out.println("[" + folder + "] " + c));
    r.unsupported().forEach(u -> System.out.println("[" + folder + "] SKIP " + u));
    return r;
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "case1_tokenizer_inference",
        "case3_dit_forward",
        "case3b_dit_sampling",
        "case4_tables",
        "case5_preprocess",
        "case6_manifests"
      })
  void everyReplayedTensorMatchesTheReference(String folder) throws IOException {
    GoldenReplay.Result r = replay(folder);
    assertThat(r.checks()).isNotEmpty().allMatch(GoldenReplay.Check::passed);
    assertThat(r.unsupported()).as("every reference tensor of the folder is replayed").isEmpty();
    assertThat(r.passed()).isTrue();
  }

  @Test
  void theTrainingCaseNeedsTheTrainingModulesReplayer() throws IOException {
    GoldenReplay.Result r = GoldenReplay.run(GOLDEN.resolve("case2_tokenizer_train_forward"));
    assertThat(r.passed()).isFalse();
    assertThat(r.unsupported())
        .singleElement()
        .asString()
        .contains("case2_tokenizer_train_forward");
  }

  @Test
  void aFolderWithoutConfigIsRefusedWithItsName(@TempDir Path tmp) {
    assertThatThrownBy(() -> GoldenReplay.run(tmp))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(tmp.toString());
  }

  @Test
  void anUnknownCaseKindIsReportedNotPassed(@TempDir Path tmp) throws IOException {
    Files.writeString(tmp.resolve("config.json"), "{\"case\": \"case9_future\"}");
    GoldenReplay.Result r = GoldenReplay.run(tmp);
    assertThat(r.passed()).isFalse();
    assertThat(r.unsupported()).singleElement().asString().contains("case9_future");
  }
}
