package dev.rectok.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class LatentsTest {

  @Property(tries = 100)
  void samplesSliceTheBatchAndKeepTheShapeAlgebra(
      @ForAll @IntRange(min = 1, max = 4) int b,
      @ForAll @IntRange(min = 1, max = 5) int c,
      @ForAll @IntRange(min = 1, max = 4) int h,
      @ForAll @IntRange(min = 1, max = 4) int w) {
    float[] v = new float[b * c * h * w];
    for (int i = 0; i < v.length; i++) {
      v[i] = i;
    }
    Latents l = new Latents(v, b, c, h, w, true);
    assertThat(l.shape()).containsExactly(b, c, h, w);
    for (int i = 0; i < b; i++) {
      Latents s = l.sample(i);
      assertThat(s.batch()).isOne();
      assertThat(s.values()[0]).isEqualTo((float) (i * c * h * w));
    }
    v[0] = -1; // the record copied the array
    assertThat(l.values()[0]).isZero();
  }

  @org.junit.jupiter.api.Test
  void rejectsMismatchedShapes() {
    assertThatThrownBy(() -> new Latents(new float[5], 1, 2, 2, 2, false))
        .hasMessageContaining("need 8 values, got 5");
    assertThatThrownBy(() -> new Latents(new float[0], 1, 0, 2, 2, false))
        .hasMessageContaining("invalid latent shape");
  }
}
