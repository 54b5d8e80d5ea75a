package dev.rectok.train.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.train.distributed.Forks;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two processes (Gloo over loopback) training the tiny stage-1 tokenizer with local batch 2 end
 * where one process with batch 4 ends: same samples, same per-sample noise (drawn for the global
 * batch), gradients averaged in DDP's buckets. Equal to 2e-6 relative; not bit for bit, since the
 * batch's float32 sums run in another order (two halves, then their average), and no further from
 * the one-process run than that run is from itself with two threads instead of one.
 */
class TokenizerDataParallelTest {
  static final int STEPS = 3;

  @Test
  void twoProcessesEqualOneWithTheSameGlobalBatch(@TempDir Path tmp) throws Exception {
    double[] c = Forks.twoProcessesAgainstOne(TokenizerDpChild.class, STEPS, 2, tmp);
    double grads = c[0];
    double weights = c[1];
    System.out.printf(
        "tokenizer, 2 processes vs 1: first-step gradients %.3g (normwise relative), largest weight "
            + "difference after %d AdamW steps %.3g (absolute), bit-identical %s%n",
        grads, STEPS, weights, c[2] == 1);
    // measured 1.67e-6 and 3.2e-6 with both runs fresh one-thread JVMs: the largest difference is
    // in the last layer (decoder.conv_out, whose gradient sums the batch in two halves), the others
    // are below 6.2e-7 but not bit-identical (see docs/distributed.md). A loss term that did not
    // split over the ranks, or noise not drawn for the global batch, gives 1e-2 and more.
    assertThat(grads).isLessThan(2e-6);
    assertThat(weights).isLessThan(5e-6);
    // and no further from the one-process run than that run is from itself with two threads
    // (measured 1.87e-6): what is left is LibTorch's float32 summation order, not the data
    // parallelism, whose every loss term splits exactly (docs/distributed.md)
    double floor = Forks.threadFloor(TokenizerDpChild.class, STEPS, 4, tmp);
    System.out.printf("tokenizer, 1 process with 2 threads vs 1 thread: %.3g%n", floor);
    assertThat(floor).isGreaterThan(0);
    assertThat(grads).isLessThanOrEqualTo(floor);
    // the weights moved: the comparison is not of two untouched initialisations
    Map<String, float[]> init;
    try (TokenizerTrainer t =
        TokenizerTrainer.stage1(
            TinyTokenizer.stage1().build(),
            TinyTokenizer.modelConfig(),
            TinyTokenizer.teacher(3),
            null,
            dev.rectok.api.Device.CPU)) {
      init = Forks.collect(List.of(t.model(), t.emaModel()));
    }
    Map<String, float[]> one;
    try (InputStream in = Files.newInputStream(tmp.resolve("single.bin"))) {
      one = Forks.read(in);
    }
    assertThat(Forks.compare(one, init)[0]).isGreaterThan(1e-4);
  }
}
