package dev.rectok.generate.golden;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * case7 (torch-fidelity's InceptionV3, FID/IS/PRC in both formula families, npz and legacy
 * torch.save files) replays through the same engine and replayer table as {@code rectok
 * check-golden}.
 */
class Case7InceptionGoldenTest {
  private static final Path GOLDEN = Path.of(System.getProperty("rectok.golden.dir"));

  @Test
  void everyTensorAndMetricOfCase7MatchesTheReference() throws IOException {
    GoldenReplay.Result r =
        GoldenReplay.run(GOLDEN.resolve("case7_inception_fid"), Case7Replay.REPLAYERS);
    r.checks().forEach(c -> System.out.println("[case7] " + c));
    r.unsupported().forEach(u -> System.out.println("[case7] SKIP " + u));
    assertThat(r.unsupported()).as("every reference tensor of the folder is replayed").isEmpty();
    assertThat(r.checks()).hasSizeGreaterThan(40).allMatch(GoldenReplay.Check::passed);
    assertThat(r.passed()).isTrue();
  }
}
