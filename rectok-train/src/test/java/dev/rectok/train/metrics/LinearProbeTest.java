package dev.rectok.train.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.DType;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.train.TestData;
import dev.rectok.train.data.FashionMnist;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class LinearProbeTest {

  /** Gaussian blobs (n, d) around well-separated class centres, with labels in [0, classes). */
  private static Tensor[] blobs(TorchGenerator g, Tensor centres, int n, int classes) {
    Tensor y =
        Tensor.randint(0, classes, new long[] {n}, g, DType.INT64, dev.rectok.api.Device.CPU);
    Tensor x = centres.indexSelect(0, y).add(Tensor.randn(g, n, centres.size(1)).mul(0.5));
    return new Tensor[] {x, y};
  }

  @Test
  void separableClassesAreLearnedAlmostPerfectly() throws Exception {
    Leaks.check(
        () -> {
          try (Scope s = Scope.open();
              TorchGenerator g = TorchGenerator.cpu(1)) {
            // scaled by 100 and shifted: standardisation must make this as easy as unit-scale data
            Tensor centres = Tensor.randn(g, 3, 10).mul(4);
            Tensor[] train = blobs(g, centres, 600, 3);
            Tensor[] test = blobs(g, centres, 300, 3);
            LinearProbe.Result r =
                LinearProbe.fit(
                    train[0].mul(100).add(7),
                    train[1],
                    test[0].mul(100).add(7),
                    test[1],
                    LinearProbe.Config.defaults());
            System.out.println("separable: " + r);
            assertThat(r.testAccuracy()).isGreaterThanOrEqualTo(0.99);
            assertThat(r.trainAccuracy()).isGreaterThanOrEqualTo(0.99);
            assertThat(r.epochs()).isEqualTo(30);
            assertThat(r.finalLoss()).isLessThan(0.1);
          }
        });
  }

  @Test
  void randomLabelsGiveChanceOnTheTestSplit() throws Exception {
    Leaks.check(
        () -> {
          try (Scope s = Scope.open();
              TorchGenerator g = TorchGenerator.cpu(2)) {
            Tensor trainX = Tensor.randn(g, 400, 32);
            Tensor trainY =
                Tensor.randint(0, 4, new long[] {400}, g, DType.INT64, dev.rectok.api.Device.CPU);
            Tensor testX = Tensor.randn(g, 4000, 32);
            Tensor testY =
                Tensor.randint(0, 4, new long[] {4000}, g, DType.INT64, dev.rectok.api.Device.CPU);
            LinearProbe.Result r =
                LinearProbe.fit(
                    trainX, trainY, testX, testY, LinearProbe.Config.defaults().withEpochs(50));
            System.out.println("random labels: " + r);
            assertThat(r.testAccuracy()).isBetween(0.20, 0.30);
            assertThat(r.trainAccuracy())
                .isGreaterThan(
                    r.testAccuracy() + 0.08); // it memorises noise, which does not transfer
          }
        });
  }

  @Test
  void sameSeedSameResultAndFullBatchWorks() throws Exception {
    Leaks.check(
        () -> {
          try (Scope s = Scope.open();
              TorchGenerator g = TorchGenerator.cpu(3)) {
            Tensor centres = Tensor.randn(g, 4, 8).mul(2);
            Tensor[] train = blobs(g, centres, 200, 4);
            Tensor[] test = blobs(g, centres, 200, 4);
            LinearProbe.Config cfg = new LinearProbe.Config(30, 64, 1e-2, 1e-4, 9);
            LinearProbe.Result r1 = LinearProbe.fit(train[0], train[1], test[0], test[1], cfg);
            LinearProbe.Result r2 = LinearProbe.fit(train[0], train[1], test[0], test[1], cfg);
            assertThat(r2).isEqualTo(r1);
            LinearProbe.Result full =
                LinearProbe.fit(
                    train[0],
                    train[1],
                    test[0],
                    test[1],
                    new LinearProbe.Config(200, 0, 5e-2, 0, 9));
            assertThat(full.testAccuracy()).isGreaterThan(0.9);
          }
        });
  }

  @Test
  void worksOnFeaturesAndCallersUnderInferenceMode() throws Exception {
    Leaks.check(
        () -> {
          try (Scope s = Scope.open();
              TorchGenerator g = TorchGenerator.cpu(6);
              GradMode inference = GradMode.inferenceMode()) {
            Tensor centres = Tensor.randn(g, 2, 5).mul(3);
            Tensor[] train =
                blobs(g, centres, 100, 2); // inference tensors, as a feature extractor would return
            Tensor[] test = blobs(g, centres, 100, 2);
            LinearProbe.Result r =
                LinearProbe.fit(
                    train[0], train[1], test[0], test[1], LinearProbe.Config.defaults());
            assertThat(r.testAccuracy()).isGreaterThan(0.95);
          }
        });
  }

  @Test
  void fashionMnistRawPixelsAreMostlyLinearlySeparable() throws Exception {
    Path dir = TestData.fashionMnist();
    FashionMnist train = FashionMnist.load(dir, true, 4000);
    FashionMnist test = FashionMnist.load(dir, false, 1000);
    Leaks.check(
        () -> {
          try (Scope s = Scope.open()) {
            long t0 = System.nanoTime();
            LinearProbe.Result r =
                LinearProbe.fit(
                    train.imagesTensor().flatten(1, -1),
                    train.labelsTensor(),
                    test.imagesTensor().flatten(1, -1),
                    test.labelsTensor(),
                    LinearProbe.Config.defaults());
            System.out.printf(
                "Fashion-MNIST linear probe on raw pixels (4000/1000): %s in %.1f s%n",
                r, (System.nanoTime() - t0) / 1e9);
            assertThat(r.testAccuracy()).isGreaterThan(0.75);
          }
        });
  }

  @Test
  void rejectsBadInput() throws Exception {
    Leaks.check(
        () -> {
          try (Scope s = Scope.open()) {
            LinearProbe.Config cfg = LinearProbe.Config.defaults();
            Tensor x = Tensor.zeros(4, 3);
            Tensor y = Tensor.of(new long[] {0, 1, 0, 1}, 4);
            assertThatThrownBy(() -> LinearProbe.fit(x, y.to(DType.INT32), x, y, cfg))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("int64");
            assertThatThrownBy(() -> LinearProbe.fit(x, y, Tensor.zeros(4, 5), y, cfg))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dimensions differ");
            assertThatThrownBy(
                    () -> LinearProbe.fit(x, Tensor.of(new long[] {0, -1, 0, 1}, 4), x, y, cfg))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(">= 0");
            assertThatThrownBy(() -> new LinearProbe.Config(0, 1, 1e-3, 0, 0))
                .isInstanceOf(IllegalArgumentException.class);
          }
        });
  }
}
