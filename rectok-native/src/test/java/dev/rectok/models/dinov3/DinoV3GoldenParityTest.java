package dev.rectok.models.dinov3;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Golden case 8: the official DINOv3 forward from both weight layouts, and RecTok's teacher image
 * path.
 */
class DinoV3GoldenParityTest {
  private static final Path CASE8 =
      Path.of(System.getProperty("rectok.golden.dir"), DinoV3Golden.CASE);

  @Test
  void case8PassesFromBothWeightFilesAndThePreprocessing() throws Exception {
    List<DinoV3Golden.Check> checks = DinoV3Golden.replay(CASE8);
    checks.forEach(c -> System.out.println(c.name() + "  " + c.detail()));
    assertThat(checks)
        .allSatisfy(c -> assertThat(c.passed()).as(c.name() + ": " + c.detail()).isTrue());
    // 2 rope tables x 2 batches, then 6 tensors x 2 batches x 2 weight files, then 3 preprocessing
    // steps
    assertThat(checks).hasSize(4 + 24 + 3);
    assertThat(checks)
        .anyMatch(
            c -> c.name().startsWith("weights_original.pth: output.batch1.last_hidden_state"));
    assertThat(checks)
        .anyMatch(
            c -> c.name().startsWith("weights_hf.safetensors: output.batch1.last_hidden_state"));
    assertThat(checks)
        .anyMatch(c -> c.name().equals("debug.preprocess.uint8") && c.tolerance() == 0);
  }
}
