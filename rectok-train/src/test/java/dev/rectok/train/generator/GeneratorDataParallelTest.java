package dev.rectok.train.generator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.train.distributed.Forks;
import java.nio.file.Path;
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
    double[] c =
        Forks.twoProcessesAgainstOne(GeneratorDpChild.class, GeneratorDpChild::run, STEPS, 4, tmp);
    double grads = c[0];
    double weights = c[1];
    System.out.printf(
        "generator, 2 processes vs 1: first-step gradients %.3g (normwise relative), largest weight "
            + "difference after %d AdamW steps %.3g (absolute), bit-identical %s%n",
        grads, STEPS, weights, c[2] == 1);
    assertThat(grads).isLessThan(5e-6);
    assertThat(weights).isLessThan(1e-5);
  }
}
