package dev.rectok.train.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json written once and compared on reopen; metrics.jsonl appends and torn-line repair. */
public class RunDirectoryTest {
  /** A metrics record (public: Jackson reads it without reflective access). */
  public record Metric(long step, double loss) {}

  @Test
  void createsTheLayoutAndReopensWithTheSameConfig(@TempDir Path tmp) throws IOException {
    Path dir = tmp.resolve("run");
    TinyConfig cfg = new TinyConfig(1, 8, 1e-3, "a \"quoted\" note");
    try (RunDirectory run = RunDirectory.open(dir, cfg, 3)) {
      assertThat(run.resumed()).isFalse();
      assertThat(dir.resolve("config.json")).as("written when training starts").doesNotExist();
      run.commitConfig();
      assertThat(dir.resolve("config.json")).exists();
      assertThat(dir.resolve("checkpoints")).isDirectory();
      assertThat(run.samplesDir()).isDirectory();
      assertThat(run.config().get("lr").doubleValue()).isEqualTo(1e-3);
      run.appendMetrics(new Metric(1, 0.5));
      run.appendMetrics(Map.of("step", 2, "loss", 0.25, "note", "multi\nline"));
    }
    String before = Files.readString(dir.resolve("config.json"));
    try (RunDirectory run = RunDirectory.open(dir, cfg, 3)) {
      assertThat(run.resumed()).isTrue();
      run.appendMetrics(new Metric(3, 0.125));
      List<JsonNode> m = run.readMetrics();
      assertThat(m).extracting(n -> n.get("step").asLong()).containsExactly(1L, 2L, 3L);
      assertThat(m.get(1).get("note").asText()).isEqualTo("multi\nline");
    }
    assertThat(Files.readString(dir.resolve("config.json"))).isEqualTo(before);
    assertThat(Files.readAllLines(dir.resolve("metrics.jsonl"))).hasSize(3);
  }

  @Test
  void aDifferentConfigIsAnErrorNamingTheDifference(@TempDir Path tmp) throws IOException {
    Path dir = tmp.resolve("run");
    try (RunDirectory run = RunDirectory.open(dir, new TinyConfig(1, 8, 1e-3, "x"), 3)) {
      run.commitConfig();
    }
    assertThatThrownBy(() -> RunDirectory.open(dir, new TinyConfig(1, 16, 1e-3, "y"), 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("/batch: run has 8, given 16")
        .hasMessageContaining("/note: run has \"x\", given \"y\"")
        .hasMessageNotContaining("/lr");
    Map<String, Object> extra = new LinkedHashMap<>();
    extra.put("seed", 1);
    extra.put("batch", 8);
    extra.put("lr", 1e-3);
    extra.put("note", "x");
    extra.put("epochs", 3);
    assertThatThrownBy(() -> RunDirectory.open(dir, extra, 3))
        .hasMessageContaining("/epochs: absent in the run, given 3");
  }

  @Test
  void aTornLastLineIsTruncatedOnReopen(@TempDir Path tmp) throws IOException {
    Path dir = tmp.resolve("run");
    TinyConfig cfg = new TinyConfig(1, 8, 1e-3, "x");
    try (RunDirectory run = RunDirectory.open(dir, cfg, 3)) {
      run.appendMetrics(new Metric(1, 0.5));
      run.appendMetrics(new Metric(2, 0.4));
    }
    Files.write(
        dir.resolve("metrics.jsonl"),
        "{\"step\":3,\"lo".getBytes(StandardCharsets.UTF_8),
        StandardOpenOption.APPEND);
    try (RunDirectory run = RunDirectory.open(dir, cfg, 3)) {
      assertThat(run.readMetrics()).extracting(n -> n.get("step").asLong()).containsExactly(1L, 2L);
      run.appendMetrics(new Metric(3, 0.3));
      run.appendMetrics(new Metric(4, 0.2));
      assertThat(run.rewindMetrics("step", 3)).isEqualTo(1);
      run.appendMetrics(new Metric(4, 0.1));
      assertThat(run.readMetrics())
          .extracting(n -> n.get("loss").asDouble())
          .containsExactly(0.5, 0.4, 0.3, 0.1);
    }
    assertThat(Files.readString(dir.resolve("metrics.jsonl"))).endsWith("\n");
  }
}
