package dev.rectok.cli;

import static dev.rectok.cli.DemoFixtures.MODELS;
import static dev.rectok.cli.DemoFixtures.assertSameUpToRounding;
import static dev.rectok.cli.DemoFixtures.s;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rectok.torch.io.Npz;
import java.awt.image.BufferedImage;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rectok launch --nproc-per-node 2 -- sample | eval ...} against the same commands in one
 * process (issue 14): the samples (PNG bytes, the {@code .npz} array) and every metric are
 * identical, bit for bit. Both run as fresh child JVMs with {@code OMP_NUM_THREADS=1}, so the
 * networks and LAPACK see the same chunks with the same threads; the chunk order, not the world
 * size, fixes every float64 sum. (Thread counts change float32 convolutions and LAPACK's rounding,
 * so a comparison across thread counts is not bit for bit.)
 */
class DistributedSampleEvalTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path tmp;
  static Path inception;
  static Path one;
  static Path two;

  private static List<String> sample(Path out, String... extra) {
    List<String> options =
        new ArrayList<>(List.of("--steps", "4", "--num", "11", "--seed", "9", "--batch", "3"));
    options.addAll(List.of(extra));
    return DemoFixtures.sample(out, options.toArray(String[]::new));
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /**
   * {@code rectok args} in a child JVM, or {@code rectok launch --nproc-per-node 2 -- args} when
   * {@code launched}, one thread per process; the output and error streams merged.
   */
  static CliTest.Run child(boolean launched, List<String> args) throws Exception {
    List<String> all = new ArrayList<>();
    if (launched) {
      all.addAll(
          List.of("launch", "--nproc-per-node", "2", "--master-port", "" + freePort(), "--"));
    }
    all.addAll(args);
    Path log = Files.createTempFile(tmp, "child", ".log");
    ProcessBuilder pb = new ProcessBuilder(LaunchCommand.childCommand(all));
    pb.environment().put("OMP_NUM_THREADS", "1");
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    Process p = pb.start();
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + all + "\n" + Files.readString(log));
    }
    return new CliTest.Run(p.exitValue(), Files.readString(log), "");
  }

  static CliTest.Run launched(List<String> args) throws Exception {
    return child(true, args);
  }

  private static CliTest.Run ok(CliTest.Run r, List<String> args) {
    assertThat(r.code()).as(String.join(" ", args) + "\n" + r.out() + r.err()).isZero();
    return r;
  }

  @BeforeAll
  static void weightsAndSamples() throws Exception {
    inception = DemoFixtures.inceptionWeights(tmp);
    one = tmp.resolve("one");
    List<String> a = sample(one, "--npz", s(tmp.resolve("one.npz")));
    ok(child(false, a), a);
    two = tmp.resolve("two");
    List<String> b = sample(two, "--npz", s(tmp.resolve("two.npz")));
    ok(launched(b), b);
  }

  @Test
  void twoProcessesSampleTheSameImagesAndNpz() throws Exception {
    // shard 0 ends in a shorter batch than the one process's, so rounding may differ by a level
    for (int i = 0; i < 11; i++) {
      String n = String.format("%06d.png", i);
      assertSameUpToRounding(n, one.resolve(n), two.resolve(n));
    }
    try (Npz.Reader x = Npz.open(tmp.resolve("one.npz"));
        Npz.Reader y = Npz.open(tmp.resolve("two.npz"));
        InputStream xs = x.stream("arr_0");
        InputStream ys = y.stream("arr_0")) {
      assertThat(y.info("arr_0").shape()).containsExactly(x.info("arr_0").shape());
      int[] twoValues = unsigned(ys.readAllBytes());
      assertSameUpToRounding("arr_0", unsigned(xs.readAllBytes()), twoValues);
      // the .npz holds exactly the PNGs of its own folder
      int[] first = DemoFixtures.pixels(two.resolve("000000.png"));
      assertThat(Arrays.copyOf(twoValues, first.length)).isEqualTo(first);
    }
    // an explicit --shard must agree with the job's rank/world size
    List<String> bad = sample(tmp.resolve("bad"), "--shard", "0/3");
    CliTest.Run r = launched(bad);
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(2);
    assertThat(r.out() + r.err()).contains("--shard 0/3 disagrees with this job");
  }

  private static JsonNode metrics(boolean launched, String what, Path samples, String... extra)
      throws Exception {
    Path out = tmp.resolve(what + (launched ? "-2" : "-1") + "-" + System.nanoTime() + ".json");
    List<String> args =
        new ArrayList<>(
            List.of(
                "eval",
                what,
                "--samples",
                s(samples),
                "--inception",
                s(inception),
                "--batch",
                "2",
                "--out",
                s(out)));
    args.addAll(List.of(extra));
    ok(launched ? launched(args) : child(false, args), args);
    return JSON.readTree(out.toFile());
  }

  @Test
  void twoProcessesEvaluateToTheSameMetricsBitForBit() throws Exception {
    // folder samples against an .npz of images: FID, IS and PRC over both sets' features
    // (and KID, whose subsets must fit in 11 images)
    String[] ref = {"--ref", s(tmp.resolve("one.npz")), "--kid-subset-size", "5"};
    JsonNode x = metrics(false, "all", one, ref);
    JsonNode y = metrics(true, "all", one, ref);
    assertThat(y.get("metrics")).isEqualTo(x.get("metrics"));
    assertThat(x.get("metrics").has("kernel_inception_distance_mean")).isTrue();
    assertThat(y.get("num_samples").asInt()).isEqualTo(11);
    assertThat(x.get("metrics").get("inception_score_mean").asDouble()).isGreaterThan(1);
    assertThat(y.get("reference_images").asInt()).isEqualTo(11);
  }

  @Test
  void twoProcessesGatherTheSpatialFeatureForSfid() throws Exception {
    // sFID's 2023-d feature travels in the same chunks as the pool features
    String[] ref = {"--ref", s(tmp.resolve("one.npz"))};
    JsonNode x = metrics(false, "sfid", one, ref);
    JsonNode y = metrics(true, "sfid", one, ref);
    assertThat(y.get("metrics")).isEqualTo(x.get("metrics"));
    assertThat(x.get("metrics").get("sfid").asDouble()).isFinite();
  }

  @Test
  void statisticsAndReconstructionMetricsEqualOneProcess() throws Exception {
    int size = ImageIO.read(one.resolve("000000.png").toFile()).getWidth();
    Path[] stats = new Path[2];
    for (int k = 0; k < 2; k++) {
      stats[k] = tmp.resolve("stats" + k + ".npz");
      List<String> args =
          List.of(
              "eval",
              "stats",
              "--images",
              s(one),
              "--crop",
              "" + size,
              "--batch",
              "3",
              "--inception",
              s(inception),
              "--out",
              s(stats[k]));
      ok(k == 0 ? child(false, args) : launched(args), args);
    }
    try (Npz.Reader a = Npz.open(stats[0]);
        Npz.Reader b = Npz.open(stats[1])) {
      for (String key : List.of("mu", "sigma")) {
        assertThat(Arrays.equals(b.doubles(key), a.doubles(key))).as(key).isTrue();
      }
    }
    JsonNode[] rec = new JsonNode[2];
    for (int k = 0; k < 2; k++) {
      Path out = tmp.resolve("recon" + k + ".json");
      List<String> args =
          List.of(
              "eval",
              "recon",
              "--tokenizer",
              s(MODELS.resolve("tokenizer.safetensors")),
              "--images",
              s(one),
              "--ref",
              s(stats[0]),
              "--batch",
              "4",
              "--inception",
              s(inception),
              "--out",
              s(out));
      ok(k == 0 ? child(false, args) : launched(args), args);
      rec[k] = JSON.readTree(out.toFile());
    }
    assertThat(rec[1].get("metrics")).isEqualTo(rec[0].get("metrics"));
    assertThat(rec[1].get("num_images").asInt()).isEqualTo(11);
  }

  @Test
  void badImagesAreSkippedAlikeOrFailTheJobNamingTheFile() throws Exception {
    Path bad = tmp.resolve("badset");
    Files.createDirectories(bad);
    for (int i = 0; i < 11; i++) {
      String n = String.format("%06d.png", i);
      Files.copy(one.resolve(n), bad.resolve(n));
    }
    // image 3 is in chunk 1 (batch 2), which rank 1 reads
    ImageIO.write(
        new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY),
        "png",
        bad.resolve("000003.png").toFile());
    JsonNode x = metrics(false, "isc", bad, "--skip-bad");
    JsonNode y = metrics(true, "isc", bad, "--skip-bad");
    assertThat(y.get("num_skipped").asInt()).isEqualTo(1);
    assertThat(y.get("num_samples").asInt()).isEqualTo(10);
    assertThat(y.get("metrics")).isEqualTo(x.get("metrics"));

    Path out = tmp.resolve("failed.json");
    List<String> args =
        List.of(
            "eval",
            "isc",
            "--samples",
            s(bad),
            "--inception",
            s(inception),
            "--batch",
            "2",
            "--out",
            s(out));
    CliTest.Run r = launched(args);
    assertThat(r.code()).as(r.out() + r.err()).isNotZero();
    assertThat(r.out() + r.err()).contains("000003.png", "rank 1");
    assertThat(out).doesNotExist();
  }

  private static int[] unsigned(byte[] b) {
    int[] v = new int[b.length];
    for (int i = 0; i < b.length; i++) {
      v[i] = b[i] & 0xff;
    }
    return v;
  }
}
