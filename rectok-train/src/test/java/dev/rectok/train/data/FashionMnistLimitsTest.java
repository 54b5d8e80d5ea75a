package dev.rectok.train.data;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * Issue 10: the default 256-pixel preset on all of Fashion-MNIST is a sentence, not "integer
 * overflow".
 */
class FashionMnistLimitsTest {
  @Test
  void paddingSixtyThousandImagesTo256PixelsIsRefusedWithTheLargestSizeThatFits() {
    int n = 60_000;
    FashionMnist all =
        new FashionMnist(new byte[n * FashionMnist.SIDE * FashionMnist.SIDE], new byte[n], n);
    assertThatThrownBy(() -> all.paddedImagesTensor(256))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("60000 Fashion-MNIST images padded to 256x256")
        .hasMessageContaining("use an image size of at most 189")
        .hasMessageNotContaining("integer overflow");
  }
}
