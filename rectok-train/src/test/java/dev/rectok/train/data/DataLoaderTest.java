package dev.rectok.train.data;

import static dev.rectok.train.data.ImageDatasetTest.writeImage;
import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.api.DType;
import dev.rectok.api.Progress;
import dev.rectok.image.AdmPreprocess;
import dev.rectok.image.RgbImage;
import dev.rectok.torch.Tensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Order, flips, corrupt files, resuming and shutdown of {@link DataLoader}. */
class DataLoaderTest {
  private static final int S = 16;

  /** A batch copied to the heap. */
  record Host(
      float[] images, long[] labels, int[] indices, boolean[] flips, DataLoader.Position next) {
    static Host of(DataLoader.Batch b) {
      assertThat(b.images().shape()).containsExactly(b.size(), 3, S, S);
      assertThat(b.images().dtype()).isEqualTo(DType.FLOAT32);
      assertThat(b.labels().shape()).containsExactly(b.size());
      assertThat(b.labels().dtype()).isEqualTo(DType.INT64);
      return new Host(
          b.images().toFloatArray(), b.labels().toLongArray(), b.indices(), b.flips(), b.next());
    }

    void assertSameAs(Host o) {
      assertThat(Arrays.equals(images, o.images))
          .isTrue(); // bitwise for floats in [-1, 1] (no NaN)
      assertThat(labels).isEqualTo(o.labels);
      assertThat(indices).isEqualTo(o.indices);
      assertThat(flips).isEqualTo(o.flips);
      assertThat(next).isEqualTo(o.next);
    }
  }

  static List<Host> drain(DataLoader.Builder b) {
    List<Host> out = new ArrayList<>();
    try (DataLoader loader = b.build()) {
      while (loader.hasNext()) {
        try (DataLoader.Batch batch = loader.next()) {
          out.add(Host.of(batch));
        }
      }
    }
    return out;
  }

  static void assertSame(List<Host> a, List<Host> b) {
    assertThat(a).hasSameSizeAs(b);
    for (int i = 0; i < a.size(); i++) {
      a.get(i).assertSameAs(b.get(i));
    }
  }

  /** 3 classes x {@code perClass} images of assorted sizes and formats. */
  static ImageDataset classes(Path dir, int perClass) throws IOException {
    String[] names = {"cat", "ant", "bee"};
    int k = 0;
    for (String c : names) {
      for (int i = 0; i < perClass; i++, k++) {
        String fmt = k % 3 == 2 ? "jpg" : "png";
        writeImage(
            dir.resolve(c).resolve(String.format("%03d.%s", i, fmt)),
            18 + k % 7,
            17 + k % 5,
            k,
            fmt);
      }
    }
    return ImageDataset.fromFolder(dir, S);
  }

  static long dataThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().startsWith("rectok-data-"))
        .count();
  }

  @Test
  void sameSeedAndEpochGiveBitwiseIdenticalBatchesForAnyWorkerCount(@TempDir Path dir)
      throws IOException {
    ImageDataset ds = classes(dir, 9);
    DataLoader.Builder one =
        DataLoader.builder(ds).batchSize(5).seed(42).epoch(3).workers(1).prefetch(1);
    List<Host> a = drain(one);
    List<Host> b =
        drain(DataLoader.builder(ds).batchSize(5).seed(42).epoch(3).workers(3).prefetch(4));
    List<Host> c = drain(one);

    assertThat(a).hasSize(6); // 27 samples: 5 full batches and one of 2
    assertThat(a.get(5).indices()).hasSize(2);
    assertSame(a, b);
    assertSame(a, c);

    int[] seen = a.stream().flatMapToInt(h -> Arrays.stream(h.indices())).sorted().toArray();
    assertThat(seen).isEqualTo(java.util.stream.IntStream.range(0, 27).toArray());
    for (Host h : a) {
      for (float v : h.images()) {
        assertThat(v).isBetween(-1f, 1f);
      }
      for (int i = 0; i < h.indices().length; i++) {
        assertThat(h.labels()[i]).isEqualTo(ds.label(h.indices()[i]));
        assertThat(ds.classNames().get((int) h.labels()[i]))
            .isEqualTo(ds.path(h.indices()[i]).getParent().getFileName().toString());
      }
    }
    // the samples are exactly ADM-preprocessed images, mirrored where the rule says
    Host first = a.get(0);
    for (int i = 0; i < first.indices().length; i++) {
      int idx = first.indices()[i];
      RgbImage crop = ds.load(idx);
      if (first.flips()[i]) {
        crop = mirror(crop);
      }
      float[] expected;
      try (Tensor t = AdmPreprocess.toTensor(crop)) {
        expected = t.toFloatArray();
      }
      assertThat(Arrays.copyOfRange(first.images(), i * 3 * S * S, (i + 1) * 3 * S * S))
          .isEqualTo(expected);
    }

    List<Host> dropped =
        drain(DataLoader.builder(ds).batchSize(5).seed(42).epoch(3).dropLast(true));
    assertThat(dropped).hasSize(5);
    assertSame(dropped, a.subList(0, 5));
  }

  static RgbImage mirror(RgbImage img) {
    byte[] d = new byte[img.data().length];
    int w = img.width();
    for (int y = 0; y < img.height(); y++) {
      for (int x = 0; x < w; x++) {
        System.arraycopy(img.data(), (y * w + w - 1 - x) * 3, d, (y * w + x) * 3, 3);
      }
    }
    return new RgbImage(w, img.height(), d);
  }

  @Test
  void epochsAndSeedsChangeTheOrder(@TempDir Path dir) throws IOException {
    ImageDataset ds = classes(dir, 8);
    int[] e0 = order(drain(DataLoader.builder(ds).batchSize(6).seed(7).epoch(0)));
    int[] e1 = order(drain(DataLoader.builder(ds).batchSize(6).seed(7).epoch(1)));
    int[] s8 = order(drain(DataLoader.builder(ds).batchSize(6).seed(8).epoch(0)));
    assertThat(e0).isNotEqualTo(e1);
    assertThat(e0).isNotEqualTo(s8);
    assertThat(Arrays.stream(e1).sorted().toArray())
        .isEqualTo(Arrays.stream(e0).sorted().toArray());
    assertThat(e0).isEqualTo(DataLoader.permutation(24, 7, 0));
    assertThat(DataLoader.permutation(24, 7, 0)).isEqualTo(DataLoader.permutation(24, 7, 0));
  }

  static int[] order(List<Host> batches) {
    return batches.stream().flatMapToInt(h -> Arrays.stream(h.indices())).toArray();
  }

  @Test
  void flipsFollowTheDeterministicRuleAboutHalfTheTime(@TempDir Path dir) throws IOException {
    // left half black, right half white: a flip shows as a bright left column
    BufferedImage img = new BufferedImage(S, S, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < S; y++) {
      for (int x = S / 2; x < S; x++) {
        img.setRGB(x, y, 0xffffff);
      }
    }
    int n = 200;
    Files.createDirectories(dir.resolve("a"));
    for (int i = 0; i < n; i++) {
      ImageIO.write(img, "png", dir.resolve("a").resolve(String.format("%03d.png", i)).toFile());
    }
    ImageDataset ds = ImageDataset.fromFolder(dir, S);
    int flippedCount = 0;
    for (Host h : drain(DataLoader.builder(ds).batchSize(32).seed(5).epoch(2).workers(2))) {
      for (int i = 0; i < h.indices().length; i++) {
        int base = i * 3 * S * S;
        boolean leftBright = h.images()[base] > 0.9f && h.images()[base + S - 1] < -0.9f;
        boolean rightBright = h.images()[base] < -0.9f && h.images()[base + S - 1] > 0.9f;
        assertThat(leftBright || rightBright).isTrue();
        assertThat(leftBright).isEqualTo(DataLoader.flipped(5, 2, h.indices()[i]));
        assertThat(h.flips()[i]).isEqualTo(leftBright);
        if (leftBright) {
          flippedCount++;
        }
      }
    }
    // Binomial(200, 0.5): mean 100, sd ~7; the rule is fixed, so this count is too
    assertThat(flippedCount).isBetween(75, 125);
    System.out.printf(
        "DataLoader flips: %d of %d samples mirrored (seed 5, epoch 2)%n", flippedCount, n);
    long otherEpoch =
        java.util.stream.IntStream.range(0, n).filter(i -> DataLoader.flipped(5, 3, i)).count();
    assertThat(otherEpoch).isBetween(75L, 125L);
    boolean differs =
        java.util.stream.IntStream.range(0, n)
            .anyMatch(i -> DataLoader.flipped(5, 2, i) != DataLoader.flipped(5, 3, i));
    assertThat(differs).isTrue();
  }

  @Test
  void corruptFilesAreSkippedCountedAndBatchesStayFull(@TempDir Path dir) throws IOException {
    ImageDataset good = classes(dir, 4); // 12 good images
    Path validPng = good.path(0);
    byte[] png = Files.readAllBytes(validPng);
    Files.write(
        dir.resolve("ant/garbage.png"), "this is not an image at all".repeat(10).getBytes());
    Files.write(dir.resolve("bee/truncated.png"), Arrays.copyOf(png, png.length / 2));
    Files.write(dir.resolve("cat/empty.jpg"), new byte[0]);
    ImageDataset ds = ImageDataset.fromFolder(dir, S);
    assertThat(ds.size()).isEqualTo(15);

    List<Host> batches = new ArrayList<>();
    long skipped;
    List<Path> skippedFiles;
    try (DataLoader loader =
        DataLoader.builder(ds).batchSize(4).seed(1).epoch(0).workers(3).build()) {
      while (loader.hasNext()) {
        try (DataLoader.Batch b = loader.next()) {
          batches.add(Host.of(b));
        }
      }
      skipped = loader.skipped();
      skippedFiles = loader.skippedFiles();
    }
    assertThat(skipped).isEqualTo(3);
    assertThat(Set.copyOf(skippedFiles))
        .containsExactlyInAnyOrder(
            dir.resolve("ant/garbage.png").toAbsolutePath(),
            dir.resolve("bee/truncated.png").toAbsolutePath(),
            dir.resolve("cat/empty.jpg").toAbsolutePath());
    assertThat(batches).hasSize(3);
    assertThat(batches.stream().map(h -> h.indices().length).toList()).containsExactly(4, 4, 4);
    Set<Integer> seen = new HashSet<>();
    for (Host h : batches) {
      for (int idx : h.indices()) {
        assertThat(ds.path(idx).getFileName().toString()).matches("\\d{3}\\.(png|jpg)");
        assertThat(seen.add(idx)).isTrue();
      }
    }
    assertThat(seen).hasSize(12);

    // resuming after any batch, through its position, continues exactly
    for (int k = 1; k < batches.size(); k++) {
      List<Host> tail =
          drain(
              DataLoader.builder(ds)
                  .batchSize(4)
                  .seed(1)
                  .workers(2)
                  .resumeFrom(batches.get(k - 1).next()));
      assertSame(tail, batches.subList(k, batches.size()));
    }
  }

  @Test
  void startingAtBatchKGivesTheTailOfAFullEpoch(@TempDir Path dir) throws IOException {
    ImageDataset ds = classes(dir, 7); // 21 images, batches of 4: 5 full + 1
    List<Host> full = drain(DataLoader.builder(ds).batchSize(4).seed(99).epoch(4).workers(2));
    assertThat(full).hasSize(6);
    for (int k = 0; k <= full.size(); k++) {
      List<Host> tail =
          drain(DataLoader.builder(ds).batchSize(4).seed(99).epoch(4).workers(3).startBatch(k));
      assertSame(tail, full.subList(k, full.size()));
    }
    List<Host> viaPosition =
        drain(DataLoader.builder(ds).batchSize(4).seed(99).resumeFrom(full.get(2).next()));
    assertSame(viaPosition, full.subList(3, full.size()));
    assertThat(full.get(2).next()).isEqualTo(new DataLoader.Position(4, 3, 12));
  }

  @Test
  void closeStopsWorkersPromptlyAndLeavesNoTensors(@TempDir Path dir) throws IOException {
    ImageDataset ds = classes(dir, 10);
    long threadsBefore = dataThreads();
    long tensorsBefore = Tensor.liveHandles();
    AtomicInteger starts = new AtomicInteger();
    AtomicInteger updates = new AtomicInteger();
    AtomicInteger ends = new AtomicInteger();
    Progress progress =
        new Progress() {
          @Override
          public void start(String task, long total) {
            starts.incrementAndGet();
            assertThat(total).isEqualTo(10);
          }

          @Override
          public void update(long done, String status) {
            updates.incrementAndGet();
          }

          @Override
          public void end() {
            ends.incrementAndGet();
          }
        };
    DataLoader loader =
        DataLoader.builder(ds).batchSize(3).workers(3).prefetch(2).progress(progress).build();
    assertThat(dataThreads()).isEqualTo(threadsBefore + 3);
    DataLoader.Batch b = loader.next();
    assertThat(Tensor.liveHandles()).isEqualTo(tensorsBefore + 2);
    long t0 = System.nanoTime();
    loader.close();
    long closeMillis = (System.nanoTime() - t0) / 1_000_000;
    loader.close(); // idempotent
    assertThat(closeMillis).isLessThan(2_000);
    assertThat(dataThreads()).isEqualTo(threadsBefore);
    assertThat(b.images().isClosed()).isFalse(); // the caller's batch outlives the loader
    b.close();
    assertThat(Tensor.liveHandles()).isEqualTo(tensorsBefore);
    assertThat(starts.get()).isEqualTo(1);
    assertThat(updates.get()).isEqualTo(1);
    assertThat(ends.get()).isEqualTo(1);
    System.out.printf("DataLoader close: %d ms with 3 workers mid-epoch%n", closeMillis);

    // a fully drained epoch stops its workers by itself
    List<Host> all = drain(DataLoader.builder(ds).batchSize(3).workers(2).progress(progress));
    assertThat(all).hasSize(10);
    assertThat(dataThreads()).isEqualTo(threadsBefore);
    assertThat(Tensor.liveHandles()).isEqualTo(tensorsBefore);
    assertThat(ends.get()).isEqualTo(2);
    assertThat(updates.get()).isEqualTo(11);
  }
}
