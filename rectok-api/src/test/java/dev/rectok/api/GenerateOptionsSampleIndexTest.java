package dev.rectok.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Per-sample noise indices (what {@code rectok sample} and --shard rely on) are validated. */
class GenerateOptionsSampleIndexTest {
  @Test
  void perSampleNoiseIsOffByDefaultAndIndicesAreNonNegative() {
    assertThat(GenerateOptions.defaults().firstSampleIndex()).isEqualTo(-1);
    assertThat(GenerateOptions.builder().firstSampleIndex(49_999).build().firstSampleIndex())
        .isEqualTo(49_999);
    assertThatThrownBy(() -> GenerateOptions.builder().firstSampleIndex(-2).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("firstSampleIndex");
  }
}
