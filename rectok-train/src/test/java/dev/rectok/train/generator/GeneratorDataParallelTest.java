package dev.rectok.train.generator;

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
 * Two processes training the tiny DiT^DH with local batch 4 end where one process with batch 8
 * ends: the label dropout, flow noise and times are drawn for the global batch and each rank keeps
 * its rows. Latents are fixed here; a posterior-sampling latent source draws per rank (its draw
 * happens inside the tokenizer), so with it the runs agree in distribution only.
 */
class GeneratorDataParallelTest {
  static final int STEPS = 3;

  @Test
  void twoProcessesEqualOneWithTheSameGlobalBatch(@TempDir Path tmp) throws Exception {
    Path dumped = tmp.resolve("rank0.bin");
    int port = Forks.freePort();
    Process[] ranks = new Process[2];
    for (int r = 0; r < 2; r++) {
      ranks[r] = Forks.startRank(GeneratorDpChild.class, List.of(dumped.toString(), "" + STEPS, "4"), r, 2, port,
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
      GeneratorDpChild.run(single, STEPS, 8);
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
    System.out.printf("generator, 2 processes vs 1: first-step gradients %.3g (normwise "
        + "relative), largest weight difference after %d AdamW steps %.3g (absolute), bit-identical %s%n", grads, STEPS, weights, Forks.compare(two, one)[1] == 1);
    assertThat(oneGrad).hasSameSizeAs(twoGrad).isNotEmpty();
    assertThat(grads).isLessThan(5e-6);
    assertThat(weights).isLessThan(1e-5);
  }
}
