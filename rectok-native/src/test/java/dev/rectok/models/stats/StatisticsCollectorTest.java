package dev.rectok.models.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.Progress;
import dev.rectok.data.ImageList;
import dev.rectok.image.AdmPreprocess;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StatisticsCollectorTest {
  private static RecTok tok;

  @BeforeAll
  static void model() {
    // PyTorch's default initialization draws from the global generator: seed it, so the model (and
    // the statistics below) are the same whichever test classes ran before in this JVM
    Torch.manualSeed(20261128);
    tok = new RecTok(TestImages.tinyConfig());
  }

  @AfterAll
  static void close() {
    tok.close();
  }

  /**
   * The same statistics in double precision, two-pass, from one batched forward over all images.
   */
  private static double[][] doubleReference(List<Path> files) throws IOException {
    int c = tok.config().tokenChannels();
    float[] z;
    long[] shape;
    try (Scope s = Scope.open();
        GradMode g = GradMode.inferenceMode()) {
      Tensor out = tok.encoderZ(new AdmPreprocess(tok.config().imgSize()).applyAll(files));
      z = out.toFloatArray();
      shape = out.shape();
    }
    int rows = (int) (shape[0] * shape[1]);
    int width = (int) shape[2];
    double[] mean = new double[c];
    double[] std = new double[c];
    for (int r = 0; r < rows; r++) {
      for (int k = 0; k < c; k++) {
        mean[k] += z[r * width + k];
      }
    }
    for (int k = 0; k < c; k++) {
      mean[k] /= rows;
    }
    for (int r = 0; r < rows; r++) {
      for (int k = 0; k < c; k++) {
        double d = z[r * width + k] - mean[k];
        std[k] += d * d;
      }
    }
    for (int k = 0; k < c; k++) {
      std[k] = Math.sqrt(std[k] / rows);
    }
    return new double[][] {mean, std};
  }

  private static void assertBitEqual(LatentStatistics a, LatentStatistics b) {
    assertThat(a.count()).isEqualTo(b.count());
    assertThat(a.images()).isEqualTo(b.images());
    for (int c = 0; c < a.channels(); c++) {
      assertThat(Float.floatToRawIntBits(a.mean(c)))
          .as("mean %d", c)
          .isEqualTo(Float.floatToRawIntBits(b.mean(c)));
      assertThat(Float.floatToRawIntBits(a.std(c)))
          .as("std %d", c)
          .isEqualTo(Float.floatToRawIntBits(b.std(c)));
    }
  }

  @Test
  void inMemoryImagesGiveTheSameStatisticsAsTheirFiles(@TempDir Path dir) throws IOException {
    TestImages.writeTen(dir);
    ImageList list = ImageList.fromFolder(dir);
    LatentStatistics files =
        StatisticsCollector.builder().batchSize(3).build().collect(tok, list).statistics();
    LatentStatistics memory;
    try (Scope s = Scope.open()) {
      memory =
          StatisticsCollector.ofImages(
              tok, new AdmPreprocess(tok.config().imgSize()).applyAll(list.files()), 3);
    }
    assertThat(memory.images()).isEqualTo(10);
    assertThat(memory.count()).isEqualTo(files.count());
    // same batches, same float32 sums: identical
    assertThat(memory.mean()).isEqualTo(files.mean());
    assertThat(memory.std()).isEqualTo(files.std());
  }

  @Test
  void matchesADoublePrecisionComputationOverTenCroppedImages(@TempDir Path dir)
      throws IOException {
    TestImages.writeTen(dir);
    ImageList list = ImageList.fromFolder(dir);
    StatisticsCollector.Result r =
        StatisticsCollector.builder().batchSize(3).build().collect(tok, list);
    assertThat(r.complete()).isTrue();
    assertThat(r.skipped()).isZero();
    LatentStatistics s = r.statistics();
    assertThat(s.images()).isEqualTo(10);
    assertThat(s.count()).isEqualTo(10L * 16);
    assertThat(s.channels()).isEqualTo(6);
    double[][] ref = doubleReference(list.files());
    double worstMean = 0;
    double worstStd = 0;
    for (int c = 0; c < 6; c++) {
      // the seeded model's channel means are not near zero, so a plain relative error is meaningful
      assertThat(Math.abs(ref[0][c])).as("mean %d", c).isGreaterThan(1e-2 * ref[1][c]);
      double mErr = Math.abs(s.mean(c) - ref[0][c]) / Math.abs(ref[0][c]);
      double sErr = Math.abs(s.std(c) - ref[1][c]) / ref[1][c];
      worstMean = Math.max(worstMean, mErr);
      worstStd = Math.max(worstStd, sErr);
      assertThat(mErr).as("mean %d: %s vs %s", c, s.mean(c), ref[0][c]).isLessThan(1e-5);
      assertThat(sErr).as("std %d: %s vs %s", c, s.std(c), ref[1][c]).isLessThan(1e-5);
    }
    System.out.printf(
        "latent stats vs double: worst mean rel %.3g, worst std rel %.3g, means %s, stds %s%n",
        worstMean, worstStd, Arrays.toString(s.mean()), Arrays.toString(s.std()));
  }

  @Test
  void resumingAfterAStopGivesTheUninterruptedResultBitForBit(@TempDir Path dir)
      throws IOException {
    TestImages.writeTen(dir.resolve("imgs"));
    Files.write(
        dir.resolve("imgs/img04b.png"),
        new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3}); // corrupt, mid-list
    ImageList list = ImageList.fromFolder(dir.resolve("imgs"));
    assertThat(list.size()).isEqualTo(11);
    LatentStatistics single =
        StatisticsCollector.builder().batchSize(3).build().collect(tok, list).statistics();

    Path cp = dir.resolve("state/collect.json");
    StatisticsCollector.Builder b =
        StatisticsCollector.builder().batchSize(3).checkpoint(cp).checkpointEvery(1);
    // 1) stop after 4 images: batches are never cut, so 2 batches (6 images) are done
    StatisticsCollector.Result first = b.maxImages(4).build().collect(tok, list);
    assertThat(first.complete()).isFalse();
    assertThat(first.statistics()).isNull();
    assertThat(first.images()).isEqualTo(6);
    assertThat(first.resumed()).isFalse();
    assertThat(cp).isRegularFile();
    // 2) resume, cancelled before the second batch of this call (it crosses the corrupt file)
    AtomicInteger polls = new AtomicInteger();
    StatisticsCollector.Result second =
        b.maxImages(Long.MAX_VALUE)
            .cancelWhen(() -> polls.incrementAndGet() > 1)
            .build()
            .collect(tok, list);
    assertThat(second.complete()).isFalse();
    assertThat(second.resumed()).isTrue();
    assertThat(second.images()).isEqualTo(9);
    assertThat(second.skipped()).isEqualTo(1);
    assertThat(second.position()).isEqualTo(10);
    // 3) resume to the end
    StatisticsCollector.Result last = b.cancelWhen(() -> false).build().collect(tok, list);
    assertThat(last.complete()).isTrue();
    assertThat(last.resumed()).isTrue();
    assertThat(last.skipped()).isEqualTo(1);
    assertBitEqual(last.statistics(), single);
    // resuming a finished pass returns the same result at once
    assertBitEqual(b.build().collect(tok, list).statistics(), single);
    // and decoding on several threads does not change a bit
    assertBitEqual(
        StatisticsCollector.builder()
            .batchSize(3)
            .readers(2)
            .build()
            .collect(tok, list)
            .statistics(),
        single);
    try (var files = Files.list(cp.getParent())) {
      assertThat(files.toList()).containsExactly(cp); // no temp files left
    }
  }

  @Test
  void checkpointsOfAnotherPassAreRefused(@TempDir Path dir) throws IOException {
    TestImages.writeTen(dir.resolve("imgs"));
    ImageList list = ImageList.fromFolder(dir.resolve("imgs"));
    Path cp = dir.resolve("cp.json");
    StatisticsCollector.builder()
        .batchSize(3)
        .checkpoint(cp)
        .maxImages(1)
        .build()
        .collect(tok, list);
    assertThatThrownBy(
            () ->
                StatisticsCollector.builder()
                    .batchSize(4)
                    .checkpoint(cp)
                    .build()
                    .collect(tok, list))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("batchSize 3")
        .hasMessageContaining(cp.toString());
    Files.delete(list.get(9));
    ImageList shorter = ImageList.fromFolder(dir.resolve("imgs"));
    assertThatThrownBy(
            () ->
                StatisticsCollector.builder()
                    .batchSize(3)
                    .checkpoint(cp)
                    .build()
                    .collect(tok, shorter))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("different image list");
    Files.writeString(cp, "{\"format\":\"rectok-latent-statistics-checkpoint\"");
    assertThatThrownBy(
            () ->
                StatisticsCollector.builder()
                    .batchSize(3)
                    .checkpoint(cp)
                    .build()
                    .collect(tok, shorter))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("not valid JSON");
  }

  @Test
  void unreadableImagesAreSkippedCountedAndDoNotChangeTheBatches(@TempDir Path dir)
      throws IOException {
    TestImages.writeTen(dir.resolve("good"));
    Path bad = Files.createDirectories(dir.resolve("bad"));
    Files.write(bad.resolve("garbage.png"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    byte[] png = Files.readAllBytes(dir.resolve("good/img04.png"));
    Files.write(bad.resolve("truncated.png"), Arrays.copyOf(png, png.length / 3));
    Files.writeString(bad.resolve("text.jpg"), "not a jpeg");
    Files.write(bad.resolve("empty.bmp"), new byte[0]);
    List<String> lines = new ArrayList<>(List.of("# good images interleaved with bad ones"));
    String[] bads = {
      "bad/garbage.png", "bad/truncated.png", "bad/text.jpg", "bad/missing.png", "bad/empty.bmp"
    };
    for (int i = 0; i < 10; i++) {
      lines.add(String.format("good/img%02d.png", i));
      if (i % 2 == 0) {
        lines.add(bads[i / 2]);
      }
    }
    Path listFile = Files.write(dir.resolve("list.txt"), lines);
    ImageList mixed = ImageList.fromFileList(listFile);
    assertThat(mixed.size()).isEqualTo(15);

    StatisticsCollector.Result r =
        StatisticsCollector.builder().batchSize(4).build().collect(tok, mixed);
    assertThat(r.complete()).isTrue();
    assertThat(r.skipped()).isEqualTo(5);
    assertThat(r.images()).isEqualTo(10);
    assertThat(r.position()).isEqualTo(15);
    LatentStatistics onlyGood =
        StatisticsCollector.builder()
            .batchSize(4)
            .build()
            .collect(tok, ImageList.fromFolder(dir.resolve("good")))
            .statistics();
    assertBitEqual(r.statistics(), onlyGood);

    Path allBad = Files.write(dir.resolve("bad.txt"), List.of(bads));
    assertThatThrownBy(
            () ->
                StatisticsCollector.builder().build().collect(tok, ImageList.fromFileList(allBad)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("no readable image")
        .hasMessageContaining("5 skipped");
  }

  @Test
  void progressCountsListEntriesOutOfTheTotal(@TempDir Path dir) throws IOException {
    TestImages.writeTen(dir);
    List<String> events = new ArrayList<>();
    Progress p =
        new Progress() {
          @Override
          public void start(String task, long total) {
            events.add("start " + total);
          }

          @Override
          public void update(long done, String status) {
            events.add(done + " " + status);
          }

          @Override
          public void end() {
            events.add("end");
          }
        };
    StatisticsCollector.builder()
        .batchSize(4)
        .progress(p)
        .build()
        .collect(tok, ImageList.fromFolder(dir));
    assertThat(events)
        .containsExactly(
            "start 10",
            "0 0 images, 0 skipped",
            "4 4 images, 0 skipped",
            "8 8 images, 0 skipped",
            "10 10 images, 0 skipped",
            "end");
  }

  @Test
  void aPassLeavesNoLiveTensorBehindAndHandlesDisableKl(@TempDir Path dir) throws IOException {
    TestImages.writeTen(dir);
    ImageList list = ImageList.fromFolder(dir);
    long before = Tensor.liveHandles();
    StatisticsCollector.builder().batchSize(4).readers(2).build().collect(tok, list);
    assertThat(Tensor.liveHandles()).isEqualTo(before);
    // with disable_kl the encoder emits C channels, all of them the latent
    try (RecTok noKl = new RecTok(TestImages.tinyConfig().toBuilder().disableKl(true).build())) {
      LatentStatistics s = StatisticsCollector.builder().build().collect(noKl, list).statistics();
      assertThat(s.channels()).isEqualTo(6);
      assertThat(s.count()).isEqualTo(160);
    }
    assertThat(Tensor.liveHandles()).isEqualTo(before);
  }

  @Test
  void tamperedCheckpointsAreRefused(@TempDir Path dir) throws IOException {
    TestImages.writeTen(dir.resolve("imgs"));
    ImageList list = ImageList.fromFolder(dir.resolve("imgs"));
    Path cp = dir.resolve("cp.json");
    StatisticsCollector c =
        StatisticsCollector.builder().batchSize(3).checkpoint(cp).maxImages(3).build();
    c.collect(tok, list);
    String good = Files.readString(cp);
    assertThat(good)
        .contains(
            "\"position\" : 3",
            "\"images\" : 3",
            "\"count\" : 48",
            "\"skipped\" : 0",
            "\"list\" : \"" + list.identity() + "\"");
    Files.writeString(cp, good.replace("\"position\" : 3", "\"position\" : 4"));
    assertThatThrownBy(() -> c.collect(tok, list))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("inconsistent");
    Files.writeString(cp, good.replace("\"position\" : 3", "\"position\" : 11"));
    assertThatThrownBy(() -> c.collect(tok, list))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("outside the list");
    Files.writeString(cp, good.replaceFirst("\"sum\" : \\[ [^,]+,", "\"sum\" : ["));
    assertThatThrownBy(() -> c.collect(tok, list))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("sums have 5");
    Files.writeString(
        cp, good.replace("rectok-latent-statistics-checkpoint", "rectok-latent-statistics"));
    assertThatThrownBy(() -> c.collect(tok, list))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("not a statistics checkpoint");
    Files.writeString(cp, good);
    assertThat(c.collect(tok, list).images()).isEqualTo(6);
  }

  @Test
  void invalidOptionsAreRejected() {
    assertThatThrownBy(() -> StatisticsCollector.builder().batchSize(0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StatisticsCollector.builder().checkpointEvery(0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StatisticsCollector.builder().readers(0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StatisticsCollector.builder().maxImages(-1))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
