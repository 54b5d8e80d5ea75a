package dev.rectok.train.recipe;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;

class EmaDecayTest {

  /**
   * Over the run the initialization's weight decays to e^−10 (within the clamp's range of run
   * lengths).
   */
  @Property
  void initializationWeighsNothingAtTheEnd(
      @ForAll @LongRange(min = 100, max = 100_000) long steps) {
    double d = FashionMnistRecipe.emaDecay(steps);
    assertThat(d).isBetween(0.9, 0.9999);
    // (1 − 10/n)^n rises towards e^−10 from below: 2.7e-5 at n = 100
    assertThat(Math.pow(d, steps)).isLessThanOrEqualTo(Math.exp(-10) * 1.0001).isGreaterThan(2e-5);
  }

  @Property
  void shortRunsAreClamped(@ForAll @LongRange(min = 0, max = 99) long steps) {
    assertThat(FashionMnistRecipe.emaDecay(steps)).isEqualTo(0.9);
  }
}
