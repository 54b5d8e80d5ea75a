package dev.rectok.torch.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.Scale;

/** Schedules against their closed forms. */
class LrScheduleTest {

  @Property(tries = 200)
  void warmupCosineIsLinearThenHalfCosine(
      @ForAll @DoubleRange(min = 0, max = 100) @Scale(8) double epoch) {
    double lr = 1e-3;
    double minLr = 1e-5;
    LrSchedule s = LrSchedule.warmupCosine(lr, minLr, 5, 100);
    double expected =
        epoch < 5
            ? lr * epoch / 5
            : minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * (epoch - 5) / 95));
    assertThat(s.lr(epoch)).isCloseTo(expected, within(1e-15));
    assertThat(s.lr(epoch)).isBetween(0.0, lr);
  }

  @Property(tries = 200)
  void warmupCosineIsMonotoneAfterWarmup(
      @ForAll @DoubleRange(min = 5, max = 99) @Scale(8) double e1,
      @ForAll @DoubleRange(min = 0, max = 1) @Scale(8) double delta) {
    LrSchedule s = LrSchedule.warmupCosine(1, 0, 5, 100);
    assertThat(s.lr(e1 + delta)).isLessThanOrEqualTo(s.lr(e1) + 1e-15);
  }

  @Property(tries = 200)
  void constantThenLinearHasThreePieces(
      @ForAll @DoubleRange(min = 0, max = 1000) @Scale(8) double epoch) {
    LrSchedule s = LrSchedule.constantThenLinear(2e-4, 2e-5, 40, 800);
    double expected =
        epoch <= 40 ? 2e-4 : epoch >= 800 ? 2e-5 : 2e-4 + (2e-5 - 2e-4) * (epoch - 40) / 760;
    assertThat(s.lr(epoch)).isCloseTo(expected, within(1e-18));
  }

  @Property(tries = 10)
  void endpoints(@ForAll @DoubleRange(min = 1e-6, max = 1) @Scale(8) double lr) {
    LrSchedule s = LrSchedule.warmupCosine(lr, lr / 10, 2, 10);
    assertThat(s.lr(0)).isZero();
    assertThat(s.lr(2)).isCloseTo(lr, within(1e-15));
    assertThat(s.lr(10)).isCloseTo(lr / 10, within(1e-15));
  }

  @org.junit.jupiter.api.Test
  void rejectsNonsense() {
    assertThatThrownBy(() -> LrSchedule.warmupCosine(1, 0, 10, 5))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> LrSchedule.constantThenLinear(1, 0, 10, 10))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
