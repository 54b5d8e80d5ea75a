package dev.rectok.train.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class VitTeacherConfigTest {

  @Test
  void defaultsAreTheDemoTeacher() {
    VitTeacherConfig c = VitTeacherConfig.builder().build();
    assertThat(c).isEqualTo(new VitTeacherConfig(32, 4, 3, 64, 4, 4, 10));
    assertThat(c.gridSize()).isEqualTo(8);
    assertThat(c.numPatches()).isEqualTo(64);
    assertThat(c.headDim()).isEqualTo(16);
  }

  @Property(tries = 50)
  void jsonRoundTripsEveryValidConfig(
      @ForAll @IntRange(min = 1, max = 8) int grid,
      @ForAll @IntRange(min = 1, max = 8) int patch,
      @ForAll @IntRange(min = 1, max = 4) int channels,
      @ForAll @IntRange(min = 1, max = 4) int heads,
      @ForAll @IntRange(min = 1, max = 4) int headQuads,
      @ForAll @IntRange(min = 1, max = 12) int depth,
      @ForAll @IntRange(min = 2, max = 1000) int classes) {
    VitTeacherConfig c =
        new VitTeacherConfig(
            grid * patch, patch, channels, heads * headQuads * 4, depth, heads, classes);
    assertThat(VitTeacherConfig.fromJson(c.toJson())).isEqualTo(c);
    assertThat(VitTeacherConfig.fromJson(c.toJson().toString())).isEqualTo(c);
  }

  @Test
  void badConfigsAreRejectedWithEveryReason() {
    assertThatThrownBy(() -> VitTeacherConfig.builder().imgSize(30).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("patch_size 4 must divide img_size 30");
    assertThatThrownBy(() -> VitTeacherConfig.builder().width(60).heads(8).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("heads 8 must divide width 60");
    assertThatThrownBy(() -> VitTeacherConfig.builder().width(24).heads(4).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("head dim width/heads = 6 must be a multiple of 4");
    assertThatThrownBy(() -> VitTeacherConfig.builder().depth(0).numClasses(1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("depth must be positive, got 0")
        .hasMessageContaining("num_classes must be at least 2, got 1");
    assertThatThrownBy(() -> VitTeacherConfig.builder().patchSize(-1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("patch_size must be positive, got -1");
  }

  @Test
  void malformedJsonIsRejectedByKey() {
    String ok = VitTeacherConfig.builder().build().toJson().toString();
    assertThatThrownBy(() -> VitTeacherConfig.fromJson(ok.replace("\"depth\":4,", "")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("missing key 'depth'");
    assertThatThrownBy(() -> VitTeacherConfig.fromJson(ok.replace("\"depth\":4", "\"depth\":4.5")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("malformed value at 'depth'");
    assertThatThrownBy(() -> VitTeacherConfig.fromJson(ok.replace("{", "{\"mlp_ratio\":4,")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown key 'mlp_ratio'");
    assertThatThrownBy(() -> VitTeacherConfig.fromJson("[1]"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be a JSON object");
    assertThatThrownBy(() -> VitTeacherConfig.fromJson("{"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("malformed");
  }
}
