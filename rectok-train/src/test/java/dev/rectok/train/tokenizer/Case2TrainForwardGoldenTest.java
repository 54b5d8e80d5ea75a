package dev.rectok.train.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.generate.golden.GoldenReplay;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Golden case 2 through the trainer's own forward ({@link Case2Replay} over {@link
 * DistillationForward}): every {@code output.*}, {@code derived.*} and {@code debug.*} tensor,
 * indices exact, τ and the teacher slice 1e-6, forward outputs 1e-4, losses 1e-5.
 */
class Case2TrainForwardGoldenTest {

  @Test
  void trainingForwardReproducesEveryCase2Tensor() throws IOException {
    Path dir = Path.of(System.getProperty("rectok.golden.dir")).resolve(Case2Replay.KIND);
    GoldenReplay.Result r = GoldenReplay.run(dir, Case2Replay.REPLAYERS);
    r.checks().forEach(c -> System.out.println("[case2] " + c));
    assertThat(r.unsupported()).as("every output/derived/debug tensor is compared").isEmpty();
    assertThat(r.checks()).hasSizeGreaterThan(25).allMatch(GoldenReplay.Check::passed);
    assertThat(r.checks())
        .anyMatch(c -> c.name().startsWith("debug.decoder."))
        .anyMatch(c -> c.name().equals("output.loss.total_without_perceptual_and_gan"));
  }
}
