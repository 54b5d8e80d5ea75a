package dev.rectok.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/** Values recorded from NumPy 2.4 ({@code numpy.random.RandomState(seed).permutation(n)}). */
class NumpyRandomStateTest {
  @Test
  void permutationsEqualNumpys() {
    assertThat(new NumpyRandomState(2020).permutation(10))
        .containsExactly(2, 4, 9, 1, 5, 7, 6, 3, 8, 0);
    assertThat(new NumpyRandomState(0).permutation(7)).containsExactly(6, 2, 1, 3, 0, 5, 4);
    assertThat(new NumpyRandomState(4294967295L).permutation(5)).containsExactly(4, 1, 0, 2, 3);
  }

  @Test
  void theFiftyThousandPermutationOfTheInceptionScoreEqualsNumpys() {
    int[] p = new NumpyRandomState(2020).permutation(50_000);
    assertThat(Arrays.copyOf(p, 5)).containsExactly(24397, 39273, 6546, 13504, 49765);
    assertThat(Arrays.copyOfRange(p, 49_997, 50_000)).containsExactly(47734, 40259, 41824);
    long check = 0;
    for (int i = 0; i < p.length; i++) {
      check += (long) p[i] * i % 1000003;
    }
    assertThat(check).isEqualTo(24981265780L);
  }

  @Property(tries = 50)
  void aPermutationHoldsEveryIndexOnce(
      @ForAll @LongRange(min = 0, max = 4294967295L) long seed,
      @ForAll @IntRange(min = 0, max = 300) int n) {
    int[] p = new NumpyRandomState(seed).permutation(n);
    int[] sorted = p.clone();
    Arrays.sort(sorted);
    for (int i = 0; i < n; i++) {
      assertThat(sorted[i]).isEqualTo(i);
    }
  }

  @Test
  void seedsOutsideNumpysRangeAreRefused() {
    assertThatThrownBy(() -> new NumpyRandomState(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new NumpyRandomState(1L << 32))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
