package dev.rectok.train.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.train.generator.GeneratorTrainingConfig;
import dev.rectok.train.tokenizer.TokenizerTrainingConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Run folders written before the training configs became Jackson records still resume: their {@code
 * config.json} (recorded by the hand-written writers with {@code rectok train generator} and {@code
 * rectok train tokenizer}, kept under {@code legacy-runs/}) reads into the records, and the records
 * write the same {@code training} object, so {@link RunDirectory} sees no difference.
 */
class LegacyRunConfigTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static ObjectNode fixture(String kind) throws IOException {
    try (InputStream in =
        LegacyRunConfigTest.class.getResourceAsStream("/legacy-runs/" + kind + "/config.json")) {
      assertThat(in).as("fixture legacy-runs/%s/config.json", kind).isNotNull();
      return (ObjectNode) JSON.readTree(in);
    }
  }

  /** Reopens a copy of the fixture's run folder with the training object the record writes now. */
  private static void reopens(Path tmp, String kind, Function<JsonNode, JsonNode> roundTrip)
      throws IOException {
    ObjectNode stored = fixture(kind);
    Path dir = tmp.resolve(kind);
    Files.createDirectories(dir);
    Files.write(dir.resolve("config.json"), JSON.writeValueAsBytes(stored));
    ObjectNode now = stored.deepCopy();
    now.set("training", roundTrip.apply(stored.get("training")));
    try (RunDirectory run = RunDirectory.open(dir, now, 2)) {
      assertThat(run.resumed()).isTrue();
    }
  }

  @Test
  void aGeneratorRunWrittenByTheOldWriterResumes(@TempDir Path tmp) throws IOException {
    reopens(tmp, "generator", t -> GeneratorTrainingConfig.fromJson(t).toJson());
    GeneratorTrainingConfig c =
        GeneratorTrainingConfig.fromJson(fixture("generator").get("training"));
    assertThat(c.model().hiddenSize()).containsExactly(384, 2048);
    assertThat(c.batchSize()).isEqualTo(32);
    assertThat(c.lr()).isEqualTo(1e-3);
  }

  @Test
  void aTokenizerRunWrittenByTheOldWriterResumes(@TempDir Path tmp) throws IOException {
    reopens(tmp, "tokenizer", t -> TokenizerTrainingConfig.fromJson(t).toJson());
    TokenizerTrainingConfig c =
        TokenizerTrainingConfig.fromJson(fixture("tokenizer").get("training"));
    assertThat(c.lr()).as("written from blr 2e-4 at batch 16").isEqualTo(1.25e-5);
  }

  @Test
  void aChangedSettingIsStillACollision(@TempDir Path tmp) throws IOException {
    assertThatThrownBy(
            () ->
                reopens(
                    tmp,
                    "generator",
                    t ->
                        GeneratorTrainingConfig.fromJson(t).toBuilder().epochs(4).build().toJson()))
        .hasMessageContaining("/training/epochs");
  }

  @Test
  void unknownKeysAreRefusedWithTheirPath() throws IOException {
    JsonNode gen = fixture("generator").get("training");
    ObjectNode typo = gen.deepCopy();
    ((ObjectNode) typo.get("model")).put("hiden_size", 64);
    assertThatThrownBy(() -> GeneratorTrainingConfig.fromJson(typo))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown key 'model.hiden_size'");
    ObjectNode top = ((ObjectNode) gen.deepCopy()).put("learning_rate", 1e-3);
    assertThatThrownBy(() -> GeneratorTrainingConfig.fromJson(top))
        .hasMessageContaining("unknown key 'learning_rate'");
    ObjectNode text = ((ObjectNode) gen.deepCopy()).put("epochs", "3");
    assertThatThrownBy(() -> GeneratorTrainingConfig.fromJson(text))
        .hasMessageContaining("malformed value at 'epochs'");
    JsonNode tok = fixture("tokenizer").get("training");
    assertThatThrownBy(
            () -> TokenizerTrainingConfig.fromJson(((ObjectNode) tok.deepCopy()).put("blr", 1e-4)))
        .hasMessageContaining("give lr or blr, not both");
    assertThat(
            TokenizerTrainingConfig.fromJson(
                    JSON.valueToTree(Map.of("batch_size", 512, "blr", 1e-4, "stage", 2)))
                .lr())
        .isEqualTo(2e-4);
  }
}
