package dev.rectok.train.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.FlowDistillerSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The run settings beside the training config ({@link FlowDistillerRun.LoopSettings}) are typed: a
 * wrong value is refused by name before anything is opened, where it used to fall back to the
 * default silently.
 */
class LoopSettingsTest {

  @Test
  void aMistypedRunSettingIsRefusedByNameBeforeAnyWork(@TempDir Path tmp) {
    Path run = tmp.resolve("run");
    FlowDistillerSpec spec =
        FlowDistillerSpec.builder(run, tmp.resolve("no-data"))
            .teacher(tmp.resolve("teacher.safetensors"))
            .training("workers", "two")
            .build();
    assertThatThrownBy(() -> FlowDistillerRun.open(spec))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'workers'");
    FlowDistillerSpec checkpoints =
        FlowDistillerSpec.builder(run, tmp.resolve("no-data"))
            .teacher(tmp.resolve("teacher.safetensors"))
            .training("checkpoint_every", 2.5)
            .build();
    assertThatThrownBy(() -> FlowDistillerRun.open(checkpoints))
        .hasMessageContaining("'checkpoint_every'");
    assertThat(Files.exists(run)).as("nothing created").isFalse();
  }

  @Test
  void theDefaultsAreTheDocumentedOnes() {
    FlowDistillerRun.LoopSettings d = FlowDistillerRun.LoopSettings.DEFAULTS;
    assertThat(d.trainImages()).isEqualTo(-1);
    assertThat(d.workers()).isEqualTo(2);
    assertThat(d.checkpointEvery()).isEqualTo(500);
    assertThat(d.logEvery()).isEqualTo(10);
    assertThat(d.autocast()).isEqualTo("none");
  }
}
