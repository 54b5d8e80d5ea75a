package dev.rectok.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.Progress;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.train.classifier.ClassifierTrainer;
import dev.rectok.train.data.FashionMnist;
import dev.rectok.train.data.IdxFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Learning on real data: an MLP trained with AdamW on Fashion-MNIST reaches 80% test accuracy. */
class FashionMnistMlpTest {

  @Test
  void mlpReachesEightyPercentOnTheTestSplit() throws IOException {
    Path dir = TestData.fashionMnist();
    FashionMnist train = FashionMnist.load(dir, true, 12_000);
    FashionMnist test = FashionMnist.load(dir, false, 2_000);
    AtomicLong updates = new AtomicLong();
    Progress counting =
        new Progress() {
          @Override
          public void update(long done, String status) {
            updates.incrementAndGet();
          }
        };
    try (Scope s = Scope.open()) {
      ClassifierTrainer.Result r =
          ClassifierTrainer.run(
              ClassifierTrainer.Config.DEFAULTS,
              train.imagesTensor(),
              train.labelsTensor(),
              test.imagesTensor(),
              test.labelsTensor(),
              10,
              counting);
      System.out.printf(
          "Fashion-MNIST MLP: epoch losses %s, test accuracy %.4f%n",
          r.epochLoss(), r.testAccuracy());
      assertThat(r.testAccuracy()).isGreaterThanOrEqualTo(0.80);
      assertThat(r.epochLoss().get(1)).isLessThan(r.epochLoss().get(0));
      assertThat(updates.get()).isEqualTo(r.steps());
    }
  }

  @Test
  void idxReaderRejectsTruncatedAndForeignFiles(@TempDir Path tmp) throws IOException {
    Path bad = tmp.resolve("x-idx3-ubyte");
    Files.write(bad, new byte[] {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3});
    assertThatThrownBy(() -> IdxFile.read(bad, -1))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("truncated");
    Path foreign = tmp.resolve("y");
    Files.write(foreign, "PNG not idx".getBytes());
    assertThatThrownBy(() -> IdxFile.read(foreign, -1))
        .hasMessageContaining("not an unsigned-byte IDX file");
    assertThatThrownBy(() -> FashionMnist.load(tmp, true, 10))
        .hasMessageContaining("dataset-fashion-mnist");
    Path ok = tmp.resolve("z");
    Files.write(ok, new byte[] {0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, (byte) 200});
    IdxFile f = IdxFile.read(ok, -1);
    assertThat(f.dims()).containsExactly(2, 2);
    assertThat(f.data()[3] & 0xff).isEqualTo(200);
  }

  @Test
  void imagesAreScaledToMinusOneOne() throws IOException {
    Path dir = TestData.fashionMnist();
    FashionMnist test = FashionMnist.load(dir, false, 16);
    try (Tensor x = test.imagesTensor();
        Scope s = Scope.open()) {
      assertThat(x.shape()).containsExactly(16, 1, 28, 28);
      assertThat(x.min().item()).isGreaterThanOrEqualTo(-1.0);
      assertThat(x.max().item()).isLessThanOrEqualTo(1.0).isGreaterThan(0.5);
    }
  }
}
