package dev.rectok.train.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.torch.Tensor;

/** Asserts that a block of test code leaves no native tensor handle behind. */
final class Leaks {
  private Leaks() {}

  interface Body {
    void run() throws Exception;
  }

  static void check(Body body) throws Exception {
    long before = Tensor.liveHandles();
    body.run();
    assertThat(Tensor.liveHandles())
        .as("live tensor handles after the test")
        .isLessThanOrEqualTo(before);
  }
}
