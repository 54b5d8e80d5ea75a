package dev.rectok.cli;

import static dev.rectok.cli.DemoFixtures.MODELS;
import static dev.rectok.cli.DemoFixtures.assertSameUpToRounding;
import static dev.rectok.cli.DemoFixtures.s;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rectok.models.inception.InceptionV3;
import dev.rectok.models.inception.InceptionWeights;
import dev.rectok.torch.io.Npz;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rectok sample | eval | convert --kind inception | bench inception} end to end on the
 * Fashion-MNIST demo models, with Inception weights built from the golden recipe (the real file
 * cannot be downloaded here).
 */
class EvalCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path tmp;
  static Path inception;
  static Path a;

  private static List<String> sample(Path out, String... extra) {
    List<String> options =
        new java.util.ArrayList<>(
            List.of(
                "--guide",
                s(MODELS.resolve("guide.safetensors")),
                "--guidance",
                "autoguidance",
                "--scale",
                "1.5",
                "--steps",
                "4",
                "--num",
                "10",
                "--seed",
                "5"));
    options.addAll(List.of(extra));
    return DemoFixtures.sample(out, options.toArray(String[]::new));
  }

  private static CliTest.Run ok(List<String> args) {
    CliTest.Run r = CliTest.run(args.toArray(String[]::new));
    assertThat(r.code()).as(String.join(" ", args) + "\n" + r.out() + r.err()).isZero();
    return r;
  }

  private static CliTest.Run fails(String expected, String... args) {
    CliTest.Run r = CliTest.run(args);
    assertThat(r.code()).as(String.join(" ", args) + "\n" + r.out()).isNotZero();
    assertThat(r.err()).contains(expected);
    return r;
  }

  @BeforeAll
  static void weightsAndSamples() throws Exception {
    inception = DemoFixtures.inceptionWeights(tmp);
    a = tmp.resolve("a");
    ok(sample(a, "--batch", "3", "--npz", s(tmp.resolve("a.npz"))));
  }

  @Test
  void samplesDependOnlyOnSeedAndIndexAndResume() throws Exception {
    Path b = tmp.resolve("b");
    ok(sample(b, "--batch", "10", "--shard", "1/2"));
    assertThat(Files.list(b).count()).isEqualTo(5);
    ok(sample(b, "--batch", "2", "--shard", "0/2"));
    for (int i = 0; i < 10; i++) {
      String n = String.format("%06d.png", i);
      assertSameUpToRounding(n, a.resolve(n), b.resolve(n));
    }
    int[] before = DemoFixtures.pixels(b.resolve("000003.png"));
    byte[] kept = Files.readAllBytes(b.resolve("000004.png"));
    Files.delete(b.resolve("000003.png"));
    CliTest.Run r = ok(sample(b, "--batch", "4"));
    assertThat(r.err()).contains("9 already done, 1 to generate");
    assertSameUpToRounding(
        "regenerated 000003.png", before, DemoFixtures.pixels(b.resolve("000003.png")));
    assertThat(Files.readAllBytes(b.resolve("000004.png")))
        .as("a finished image is kept")
        .isEqualTo(kept);
    try (Npz.Reader npz = Npz.open(tmp.resolve("a.npz"))) {
      BufferedImage first = ImageIO.read(a.resolve("000000.png").toFile());
      assertThat(npz.info("arr_0").shape())
          .containsExactly(10, first.getHeight(), first.getWidth(), 3);
    }
    fails(
        "--force",
        sample(tmp.resolve("c"), "--npz", s(tmp.resolve("a.npz"))).toArray(String[]::new));
    fails("--shard", sample(tmp.resolve("c"), "--shard", "2/2").toArray(String[]::new));
  }

  @Test
  void statisticsMetricsAndTheirJson() throws Exception {
    Path ref = tmp.resolve("ref.npz");
    ok(
        List.of(
            "eval",
            "stats",
            "--images",
            s(a),
            "--out",
            s(ref),
            "--inception",
            s(inception),
            "--batch",
            "4"));
    Path m = tmp.resolve("m.json");
    CliTest.Run r =
        ok(
            List.of(
                "eval",
                "all",
                "--samples",
                s(a),
                "--ref",
                s(tmp.resolve("a.npz")),
                "--inception",
                s(inception),
                "--kid-subsets",
                "3",
                "--kid-subset-size",
                "10",
                "--out",
                s(m)));
    assertThat(r.out())
        .contains(
            "frechet_inception_distance=",
            "inception_score_mean=",
            "precision=1.0",
            "recall=1.0",
            "kernel_inception_distance_mean=",
            "kernel_inception_distance_std=");
    JsonNode j = JSON.readTree(m.toFile());
    assertThat(j.get("protocol").asText()).isEqualTo("torch-fidelity");
    assertThat(j.get("num_samples").asInt()).isEqualTo(10);
    assertThat(j.get("num_skipped").asInt()).isZero();
    assertThat(j.get("reference_sha256").asText()).hasSize(64);
    assertThat(j.get("inception_sha256").asText()).hasSize(64);
    assertThat(j.get("sdk_version").asText()).isNotBlank();
    double fidSelf = j.get("metrics").get("frechet_inception_distance").asDouble();
    assertThat(fidSelf).isCloseTo(0.0, within(1e-3));

    Path m2 = tmp.resolve("m2.json");
    ok(
        List.of(
            "eval",
            "fid",
            "--samples",
            s(tmp.resolve("a.npz")),
            "--ref",
            s(ref),
            "--protocol",
            "adm",
            "--inception",
            s(inception),
            "--out",
            s(m2)));
    JsonNode j2 = JSON.readTree(m2.toFile());
    assertThat(j2.get("reference_stored_statistics").asBoolean()).isTrue();
    assertThat(j2.get("metrics").get("frechet_inception_distance").asDouble())
        .isCloseTo(fidSelf, within(1e-3));
    fails(
        "--force",
        "eval",
        "fid",
        "--samples",
        s(a),
        "--ref",
        s(ref),
        "--inception",
        s(inception),
        "--out",
        s(m2));
    fails(
        "--protocol",
        "eval",
        "fid",
        "--samples",
        s(a),
        "--ref",
        s(ref),
        "--inception",
        s(inception),
        "--protocol",
        "clean");

    CliTest.Run isc =
        ok(
            List.of(
                "eval",
                "isc",
                "--samples",
                s(a),
                "--inception",
                s(inception),
                "--out",
                s(tmp.resolve("i.json"))));
    assertThat(isc.out()).contains("inception_score_mean=", "inception_score_std=");
  }

  @Test
  void badInputIsAClearErrorOrACountedSkip() throws Exception {
    Path c = tmp.resolve("bad");
    Files.createDirectories(c);
    for (int i = 0; i < 3; i++) {
      Files.copy(a.resolve(String.format("%06d.png", i)), c.resolve(String.format("%06d.png", i)));
    }
    ImageIO.write(
        new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY),
        "png",
        c.resolve("000009.png").toFile());
    Path ref = tmp.resolve("ref2.npz");
    ok(List.of("eval", "stats", "--images", s(a), "--out", s(ref), "--inception", s(inception)));
    fails(
        "000009.png",
        "eval",
        "fid",
        "--samples",
        s(c),
        "--ref",
        s(ref),
        "--inception",
        s(inception),
        "--out",
        s(tmp.resolve("x.json")));
    assertThat(tmp.resolve("x.json")).doesNotExist();
    ok(
        List.of(
            "eval",
            "fid",
            "--samples",
            s(c),
            "--ref",
            s(ref),
            "--inception",
            s(inception),
            "--skip-bad",
            "--out",
            s(tmp.resolve("y.json"))));
    assertThat(JSON.readTree(tmp.resolve("y.json").toFile()).get("num_skipped").asInt())
        .isEqualTo(1);

    Path one = tmp.resolve("one");
    Files.createDirectories(one);
    Files.copy(a.resolve("000000.png"), one.resolve("000000.png"));
    fails(
        "at least 2",
        "eval",
        "fid",
        "--samples",
        s(one),
        "--ref",
        s(ref),
        "--inception",
        s(inception),
        "--out",
        s(tmp.resolve("z.json")));

    Path nan = tmp.resolve("nan.npz");
    try (Npz.Writer w = Npz.create(nan, false)) {
      w.putDoubles("mu", new double[] {Double.NaN, 0}, 2);
      w.putDoubles("sigma", new double[] {1, 0, 0, 1}, 2, 2);
      w.commit();
    }
    fails(
        "NaN",
        "eval",
        "fid",
        "--samples",
        s(a),
        "--ref",
        s(nan),
        "--inception",
        s(inception),
        "--out",
        s(tmp.resolve("n.json")));
    Path small = tmp.resolve("small.npz");
    try (Npz.Writer w = Npz.create(small, false)) {
      w.putDoubles("mu", new double[] {0, 0}, 2);
      w.putDoubles("sigma", new double[] {1, 0, 0, 1}, 2, 2);
      w.commit();
    }
    fails(
        "dimensional",
        "eval",
        "fid",
        "--samples",
        s(a),
        "--ref",
        s(small),
        "--inception",
        s(inception),
        "--out",
        s(tmp.resolve("d.json")));
    fails(
        "pt_inception-2015-12-05-6726825d.pth",
        "eval",
        "fid",
        "--samples",
        s(a),
        "--ref",
        s(ref),
        "--inception",
        s(tmp.resolve("absent.pth")),
        "--out",
        s(tmp.resolve("e.json")));
    fails(
        "--batch",
        "eval",
        "fid",
        "--samples",
        s(a),
        "--ref",
        s(ref),
        "--inception",
        s(inception),
        "--batch",
        "0");
  }

  @Test
  void reconstructionConvertAndBench() throws Exception {
    Path ref = tmp.resolve("ref3.npz");
    ok(
        List.of(
            "eval",
            "stats",
            "--images",
            s(a),
            "--crop",
            "32",
            "--out",
            s(ref),
            "--inception",
            s(inception)));
    CliTest.Run r =
        ok(
            List.of(
                "eval",
                "recon",
                "--tokenizer",
                s(MODELS.resolve("tokenizer.safetensors")),
                "--images",
                s(a),
                "--ref",
                s(ref),
                "--inception",
                s(inception),
                "--out",
                s(tmp.resolve("recon.json"))));
    assertThat(r.out()).contains("rfid=", "psnr=");
    double psnr =
        JSON.readTree(tmp.resolve("recon.json").toFile()).get("metrics").get("psnr").asDouble();
    assertThat(psnr).isBetween(10.0, 60.0);

    Path conv = tmp.resolve("conv.safetensors");
    ok(List.of("convert", s(inception), s(conv), "--kind", "inception"));
    fails("--force", "convert", s(inception), s(conv), "--kind", "inception");
    fails(
        "weights-inception-2015-12-05-6726825d.pth",
        "convert",
        s(tmp.resolve("nope.pth")),
        s(tmp.resolve("o.safetensors")),
        "--kind",
        "inception");

    CliTest.Run b =
        ok(
            List.of(
                "bench",
                "inception",
                "--batch",
                "2",
                "--iters",
                "1",
                "--warmup",
                "0",
                "--size",
                "32"));
    String[] lines = b.out().strip().split("\n");
    assertThat(lines[lines.length - 1]).startsWith("images_per_second=");
  }

  @Test
  void linearProbeOnCachedLatents() throws Exception {
    Path train = tmp.resolve("probe/train");
    Path val = tmp.resolve("probe/val");
    for (int i = 0; i < 10; i++) {
      String cls = i < 5 ? "a" : "b";
      for (Path split : new Path[] {train, val}) {
        Files.createDirectories(split.resolve(cls));
        Files.copy(a.resolve(String.format("%06d.png", i)), split.resolve(cls).resolve(i + ".png"));
      }
    }
    Path cache = tmp.resolve("probe/cache");
    List<String> args =
        List.of(
            "eval",
            "probe",
            "--tokenizer",
            s(MODELS.resolve("tokenizer.safetensors")),
            "--train",
            s(train),
            "--val",
            s(val),
            "--cache",
            s(cache),
            "--epochs",
            "3",
            "--batch",
            "4",
            "--shard-images",
            "3");
    CliTest.Run r = ok(args);
    assertThat(r.out()).contains("classes=2", "val_accuracy=");
    double acc =
        Double.parseDouble(
            r.out()
                .lines()
                .filter(l -> l.startsWith("val_accuracy="))
                .findFirst()
                .orElseThrow()
                .substring("val_accuracy=".length()));
    assertThat(acc).isBetween(0.0, 1.0);
    assertThat(Files.list(cache).count()).isEqualTo(2);
    // 10 train images in shards of 3: four shard files and the manifest written last
    try (var dirs = Files.list(cache)) {
      Path trainCache =
          dirs.filter(p -> p.getFileName().toString().startsWith("train-"))
              .findFirst()
              .orElseThrow();
      assertThat(dev.rectok.train.metrics.FeatureShards.open(trainCache).shards()).isEqualTo(4);
      assertThat(dev.rectok.train.metrics.FeatureShards.open(trainCache).count()).isEqualTo(10);
    }
    assertThat(ok(args).err()).contains("reusing");
    Files.createDirectories(val.resolve("c"));
    fails("class folders", args.toArray(String[]::new));
  }

  // --- issue 11: KID and sFID ---
  private static List<String> metric(
      String what, Path samples, Path ref, Path out, String... extra) {
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                "eval",
                what,
                "--samples",
                s(samples),
                "--ref",
                s(ref),
                "--inception",
                s(inception),
                "--out",
                s(out)));
    args.addAll(List.of(extra));
    return args;
  }

  @Test
  void kidAndSfidFromTheCommandLine() throws Exception {
    Path ref = tmp.resolve("a.npz");
    Path k = tmp.resolve("kid.json");
    CliTest.Run r = ok(metric("kid", a, ref, k, "--kid-subsets", "4", "--kid-subset-size", "6"));
    assertThat(r.out()).contains("kernel_inception_distance_mean=");
    JsonNode kj = JSON.readTree(k.toFile());
    assertThat(kj.get("kid_subsets").asInt()).isEqualTo(4);
    assertThat(kj.get("kid_subset_size").asInt()).isEqualTo(6);
    assertThat(kj.get("kid_seed").asLong()).isEqualTo(2020);
    assertThat(kj.get("metrics").get("kernel_inception_distance_std").asDouble()).isPositive();
    // torch-fidelity's default subset size needs 1000 images per set: bad input, exit 3
    CliTest.Run few =
        fails(
            "--kid-subset-size",
            metric("kid", a, ref, tmp.resolve("k2.json")).toArray(String[]::new));
    assertThat(few.code()).isEqualTo(3);
    assertThat(tmp.resolve("k2.json")).doesNotExist();
    CliTest.Run range =
        fails(
            "--kid-subset-size",
            metric("kid", a, ref, tmp.resolve("k3.json"), "--kid-subset-size", "1")
                .toArray(String[]::new));
    assertThat(range.code()).isEqualTo(2);

    // sFID from the reference images, then from an ADM-style batch with stored mu_s/sigma_s
    Path sf = tmp.resolve("sfid.json");
    ok(metric("sfid", a, ref, sf));
    double fromImages = JSON.readTree(sf.toFile()).get("metrics").get("sfid").asDouble();
    assertThat(fromImages).isCloseTo(0.0, within(1e-3));
    Path b = tmp.resolve("sfid_b");
    ok(sample(b, "--labels", "3,4"));
    Path adm = tmp.resolve("adm_ref.npz");
    dev.rectok.eval.FeatureSet fs;
    try (InceptionV3 net = InceptionWeights.load(inception);
        var src = dev.rectok.eval.ImageSource.open(b, false, 1)) {
      fs =
          dev.rectok.eval.FeatureSet.extract(
              net, src, 4, false, false, true, dev.rectok.api.Progress.NONE);
    }
    var st = dev.rectok.eval.Fid.withFloat32Mean(fs.statistics());
    var sp = dev.rectok.eval.Fid.withFloat32Mean(fs.spatialStatistics());
    try (Npz.Writer w = Npz.create(adm, false)) {
      w.putDoubles("mu", st.mean(), st.dim());
      w.putDoubles("sigma", st.covarianceRowMajor(), st.dim(), st.dim());
      w.putDoubles("mu_s", sp.mean(), 2023);
      w.putDoubles("sigma_s", sp.covarianceRowMajor(), 2023, 2023);
      w.commit();
    }
    Path sf2 = tmp.resolve("sfid2.json");
    Path sf3 = tmp.resolve("sfid3.json");
    ok(metric("sfid", a, adm, sf2));
    ok(metric("sfid", a, b, sf3));
    JsonNode j2 = JSON.readTree(sf2.toFile());
    assertThat(j2.get("reference_images").asInt()).isZero();
    double stored = j2.get("metrics").get("sfid").asDouble();
    double computed = JSON.readTree(sf3.toFile()).get("metrics").get("sfid").asDouble();
    assertThat(stored).isGreaterThan(1e-3).isCloseTo(computed, within(1e-6 * computed));

    // "all" with a statistics-only reference computes what it can and says what it left out
    Path statsOnly = tmp.resolve("stats_only.npz");
    ok(
        List.of(
            "eval", "stats", "--images", s(b), "--out", s(statsOnly), "--inception", s(inception)));
    Path all = tmp.resolve("all_adm.json");
    CliTest.Run ar = ok(metric("all", a, statsOnly, all, "--protocol", "adm"));
    assertThat(ar.err()).contains("prc not computed", "sfid not computed");
    JsonNode aj = JSON.readTree(all.toFile());
    assertThat(aj.get("not_computed").toString()).contains("prc", "sfid");
    assertThat(aj.get("metrics").has("frechet_inception_distance")).isTrue();
    assertThat(aj.get("metrics").has("inception_score")).isTrue();
    Path allAdm = tmp.resolve("all_adm2.json");
    CliTest.Run ar2 = ok(metric("all", a, adm, allAdm, "--protocol", "adm"));
    assertThat(ar2.out()).contains("sfid=").doesNotContain("kernel_inception_distance");
    fails(
        "sFID needs mu_s/sigma_s",
        metric("sfid", a, statsOnly, tmp.resolve("sf4.json")).toArray(String[]::new));
  }
}
