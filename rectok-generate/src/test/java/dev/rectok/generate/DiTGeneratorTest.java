package dev.rectok.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.Device;
import dev.rectok.api.GenerateOptions;
import dev.rectok.api.Latents;
import dev.rectok.api.Progress;
import dev.rectok.models.dit.DiTCheckpoints;
import dev.rectok.models.dit.DiTConfig;
import dev.rectok.models.dit.DiTwDDTHead;
import dev.rectok.models.golden.GoldenCase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Generation on the golden case3b networks: reproducible, seed-sensitive, thread-safe, cancellable.
 */
class DiTGeneratorTest {
  private static final Path DIR =
      Path.of(System.getProperty("rectok.golden.dir"), "case3b_dit_sampling");
  private static DiTGenerator generator;
  private static final GenerateOptions FEW = GenerateOptions.builder().gridPoints(6).build();

  @BeforeAll
  static void load() throws Exception {
    generator = Case3b.generator();
  }

  @AfterAll
  static void close() {
    generator.close();
  }

  @Test
  void sameSeedSameLatentsDifferentSeedDifferentLatents() {
    Latents a = generator.sample(new long[] {1, 7}, 42, FEW, Progress.NONE);
    Latents b = generator.sample(new long[] {1, 7}, 42, FEW, Progress.NONE);
    Latents c = generator.sample(new long[] {1, 7}, 43, FEW, Progress.NONE);
    assertThat(a).isEqualTo(b);
    assertThat(a).isNotEqualTo(c);
    assertThat(a.shape())
        .containsExactly(
            2, generator.latentShape()[0], generator.latentShape()[1], generator.latentShape()[2]);
    assertThat(a.normalized()).isTrue();
  }

  @Test
  void guidanceChangesTheResultAndAutoGuidanceUsesTheGuide() {
    Latents plain = generator.sample(new long[] {3}, 5, FEW, Progress.NONE);
    Latents auto =
        generator.sample(
            new long[] {3},
            5,
            GenerateOptions.builder().gridPoints(6).autoGuidance().build(),
            Progress.NONE);
    Latents cfg =
        generator.sample(
            new long[] {3},
            5,
            GenerateOptions.builder()
                .gridPoints(6)
                .guidance(GenerateOptions.GuidanceKind.CFG, 1.5)
                .build(),
            Progress.NONE);
    Latents cfgOne =
        generator.sample(
            new long[] {3},
            5,
            GenerateOptions.builder()
                .gridPoints(6)
                .guidance(GenerateOptions.GuidanceKind.CFG, 1.0)
                .build(),
            Progress.NONE);
    assertThat(auto).isNotEqualTo(plain);
    assertThat(cfg).isNotEqualTo(plain);
    float[] p = plain.values();
    float[] one = cfgOne.values();
    for (int i = 0; i < p.length; i++) {
      assertThat(one[i])
          .isCloseTo(
              p[i],
              org.assertj.core.api.Assertions.within(1e-4f)); // w = 1 is the conditional model
    }
  }

  @Test
  void concurrentCallsEqualSerialOnes() throws Exception {
    List<Latents> serial = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      serial.add(generator.sample(new long[] {i}, 100 + i, FEW, Progress.NONE));
    }
    try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
      List<Future<Latents>> futures = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        int k = i;
        futures.add(
            pool.submit(() -> generator.sample(new long[] {k}, 100 + k, FEW, Progress.NONE)));
      }
      for (int i = 0; i < 4; i++) {
        assertThat(futures.get(i).get()).isEqualTo(serial.get(i));
      }
    }
  }

  @Test
  void progressCountsStepsAndCancellationStops() {
    AtomicInteger updates = new AtomicInteger();
    generator.sample(
        new long[] {0},
        1,
        FEW,
        new Progress() {
          @Override
          public void update(long done, String status) {
            updates.incrementAndGet();
          }
        });
    assertThat(updates.get()).isEqualTo(5);
    AtomicInteger polls = new AtomicInteger();
    GenerateOptions cancelAfterTwo =
        GenerateOptions.builder()
            .gridPoints(6)
            .cancelled(() -> polls.incrementAndGet() > 2)
            .build();
    assertThatThrownBy(() -> generator.sample(new long[] {0}, 1, cancelAfterTwo, Progress.NONE))
        .isInstanceOf(CancellationException.class);
  }

  @Test
  void badRequestsAreRefusedWithAReason() {
    assertThatThrownBy(
            () -> generator.sample(new long[] {generator.numClasses()}, 1, FEW, Progress.NONE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("outside 0..");
    assertThatThrownBy(() -> generator.sample(new long[0], 1, FEW, Progress.NONE))
        .hasMessageContaining("no labels");
    assertThatThrownBy(() -> GenerateOptions.builder().gridPoints(1).build())
        .hasMessageContaining("at least 2 grid points");
  }

  @Test
  void theApiOpensAConvertedModelFileThroughTheService(@org.junit.jupiter.api.io.TempDir Path tmp)
      throws Exception {
    Path file = tmp.resolve("gen.safetensors");
    try (GoldenCase g = GoldenCase.open(DIR);
        DiTwDDTHead net = new DiTwDDTHead(DiTConfig.fromConstructorKwargs(g.config()))) {
      DiTCheckpoints.load(net, DIR.resolve("weights.pth"));
      dev.rectok.models.ModelFile.write(
          file,
          "generator",
          dev.rectok.models.ModelFile.configFromGolden(g.config()),
          net.stateDict(),
          null,
          null);
    }
    try (dev.rectok.api.Generator api =
        dev.rectok.api.Backends.openGenerator(file, null, Device.CPU)) {
      assertThat(api).isInstanceOf(DiTGenerator.class);
      // the same weights through the file give the same latents as the directly loaded network
      assertThat(api.sample(new long[] {2}, 9, FEW, Progress.NONE))
          .isEqualTo(generator.sample(new long[] {2}, 9, FEW, Progress.NONE));
      assertThatThrownBy(
              () ->
                  api.sample(
                      new long[] {2},
                      9,
                      GenerateOptions.builder().autoGuidance().build(),
                      Progress.NONE))
          .hasMessageContaining("needs a guide model");
    }
  }

  // --- issue 13: CUDA graphs ---
  @Test
  void cudaGraphsAreRefusedForACpuGeneratorWithTheReason() {
    assertThatThrownBy(() -> generator.useCudaGraphs(true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("CUDA graphs need a CUDA device, not cpu");
    assertThat(generator.cudaGraphs()).isFalse();
    generator.useCudaGraphs(false); // turning it off is always allowed
    assertThat(generator.sample(new long[] {2}, 1, FEW, Progress.NONE).shape()[0]).isEqualTo(1);
  }
}
