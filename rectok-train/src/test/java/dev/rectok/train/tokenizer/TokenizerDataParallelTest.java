package dev.rectok.train.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.torch.Torch;
import dev.rectok.train.distributed.DataParallel;
import dev.rectok.train.distributed.Forks;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two processes (Gloo over loopback) training the tiny stage-1 tokenizer with local batch 2 end
 * where one process with batch 4 ends: same samples, same per-sample noise (drawn for the global
 * batch), gradients averaged in DDP's buckets. Equal to 1e-6 relative; not bit for bit, since the
 * batch mean is summed in another order (two halves, then their average).
 */
class TokenizerDataParallelTest {
  static final int STEPS = 3;

  @Test
  void twoProcessesEqualOneWithTheSameGlobalBatch(@TempDir Path tmp) throws Exception {
    Path dumped = tmp.resolve("rank0.bin");
    int port = Forks.freePort();
    Process[] ranks = new Process[2];
    for (int r = 0; r < 2; r++) {
      ranks[r] = Forks.startRank(TokenizerDpChild.class, List.of(dumped.toString(), "" + STEPS, "2"), r, 2, port,
          tmp.resolve("rank" + r + ".log"));
    }
    for (int r = 0; r < 2; r++) {
      assertThat(ranks[r].waitFor(240, TimeUnit.SECONDS)).as("rank %d finished", r).isTrue();
      assertThat(ranks[r].exitValue()).as("rank %d:\n%s", r, Files.readString(tmp.resolve("rank" + r + ".log")))
          .isZero();
    }
    Path single = tmp.resolve("single.bin");
    int threads = Torch.numThreads();
    Torch.setNumThreads(1);
    try {
      DataParallel.reset();
      TokenizerDpChild.run(single, STEPS, 4);
    } finally {
      Torch.setNumThreads(threads);
    }
    Map<String, float[]> two;
    Map<String, float[]> one;
    Map<String, float[]> twoGrad;
    Map<String, float[]> oneGrad;
    try (InputStream a = Files.newInputStream(dumped); InputStream b = Files.newInputStream(single);
        InputStream ag = Files.newInputStream(Path.of(dumped + ".grad"));
        InputStream bg = Files.newInputStream(Path.of(single + ".grad"))) {
      two = Forks.read(a);
      one = Forks.read(b);
      twoGrad = Forks.read(ag);
      oneGrad = Forks.read(bg);
    }
    double grads = Forks.normwise(twoGrad, oneGrad);
    double weights = Forks.maxAbs(two, one);
    System.out.printf("tokenizer, 2 processes vs 1: first-step gradients %.3g (normwise "
        + "relative), largest weight difference after %d AdamW steps %.3g (absolute), bit-identical %s%n", grads, STEPS, weights, Forks.compare(two, one)[1] == 1);
    assertThat(oneGrad).hasSameSizeAs(twoGrad).isNotEmpty();
    // float32 sums in another order: measured 1.7e-6 and 3.2e-6 (a loss term that did not split over
    // the ranks, or noise not drawn for the global batch, gives 1e-2 and more)
    assertThat(grads).isLessThan(5e-6);
    assertThat(weights).isLessThan(1e-5);
    // the weights moved: the comparison is not of two untouched initialisations
    Map<String, float[]> init;
    try (TokenizerTrainer t = TokenizerTrainer.stage1(TinyTokenizer.stage1().build(), TinyTokenizer.modelConfig(),
        TinyTokenizer.teacher(3), null, dev.rectok.api.Device.CPU)) {
      init = Forks.collect(List.of(t.model(), t.emaModel()));
    }
    assertThat(Forks.compare(one, init)[0]).isGreaterThan(1e-4);
  }
}
