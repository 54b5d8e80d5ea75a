package dev.rectok.cli;

import static dev.rectok.cli.CliTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.models.dinov3.DinoV3Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DINOv3 teacher commands: check-golden case8, convert --kind teacher, teacher-features, bench
 * teacher.
 */
class TeacherCliTest {
  private static final Path CASE8 =
      Path.of(System.getProperty("rectok.golden.dir", "../golden/public"), "case8_dinov3_teacher");
  private static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");

  @Test
  void checkGoldenReplaysCase8FromBothWeightFiles() {
    CliTest.Run r = run("check-golden", CASE8.toString());
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.out())
        .contains(
            "weights_original.pth: output.batch1.last_hidden_state",
            "weights_hf.safetensors: output.batch1.last_hidden_state",
            "debug.preprocess.uint8",
            "PASS",
            "1 of 1 folders passed")
        .doesNotContain("FAIL");
  }

  @Test
  void convertBothLayoutsThenComputeResumableFeatureShards(@TempDir Path tmp) throws IOException {
    Path fromPth = tmp.resolve("from-pth.safetensors");
    Path fromHf = tmp.resolve("from-hf.safetensors");
    CliTest.Run a =
        run(
            "convert",
            CASE8.resolve("weights_original.pth").toString(),
            fromPth.toString(),
            "--kind",
            "teacher");
    assertThat(a.code()).as(a.err()).isZero();
    assertThat(a.out())
        .contains("\"embed_dim\":64", "\"num_heads\":4"); // heads from the stored RoPE periods
    // the transformers file says nothing about heads at a non-released width: the config does
    CliTest.Run noCfg =
        run(
            "convert",
            CASE8.resolve("weights_hf.safetensors").toString(),
            fromHf.toString(),
            "--kind",
            "teacher");
    assertThat(noCfg.code()).isNotZero();
    assertThat(noCfg.err()).contains("give the configuration explicitly");
    CliTest.Run b =
        run(
            "convert",
            CASE8.resolve("weights_hf.safetensors").toString(),
            fromHf.toString(),
            "--kind",
            "teacher",
            "--config",
            CASE8.resolve("config.json").toString());
    assertThat(b.code()).as(b.err()).isZero();
    CliTest.Run missing =
        run(
            "convert",
            tmp.resolve("dinov3.pth").toString(),
            tmp.resolve("none.safetensors").toString(),
            "--kind",
            "teacher");
    assertThat(missing.code()).isNotZero();
    assertThat(missing.err()).contains(DinoV3Weights.OFFICIAL_FILE, DinoV3Weights.HF_REPOSITORY);

    assertThat(FASHION.resolve("train-images-idx3-ubyte.gz"))
        .as("Fashion-MNIST must be installed (bin/setup)")
        .exists();
    Path out = tmp.resolve("features");
    String[] cmd = {
      "teacher-features",
      "--teacher",
      fromHf.toString(),
      "--data",
      FASHION.toString(),
      "--out",
      out.toString(),
      "--image-size",
      "32",
      "--grid",
      "4",
      "--limit",
      "20",
      "--chunk",
      "8",
      "--batch",
      "5"
    };
    CliTest.Run f = run(cmd);
    assertThat(f.code()).as(f.err()).isZero();
    assertThat(f.out())
        .contains(
            "3 chunks written, 0 already there", "features [16, 64] float32", "images_per_second=");
    Files.delete(out.resolve("features-000000008-000000016.safetensors"));
    CliTest.Run resumed = run(cmd);
    assertThat(resumed.out()).contains("1 chunks written, 2 already there");
    try (Stream<Path> s = Files.list(out)) {
      assertThat(s.filter(p -> p.toString().endsWith(".safetensors")).count()).isEqualTo(3);
    }
    CliTest.Run badShard =
        run(
            "teacher-features",
            "--teacher",
            fromHf.toString(),
            "--data",
            FASHION.toString(),
            "--out",
            out.toString(),
            "--shard",
            "2/2");
    assertThat(badShard.code()).isEqualTo(2);
    assertThat(badShard.err()).contains("--shard must be i/n with 0 <= i < n");
  }

  @Test
  void benchTeacherPrintsImagesPerSecondLast() {
    CliTest.Run r =
        run(
            "bench",
            "teacher",
            "--preset",
            "dinov3_vits16",
            "--image-size",
            "32",
            "--iters",
            "1",
            "--warmup",
            "0",
            "--precision",
            "bf16");
    assertThat(r.code()).as(r.err()).isZero();
    String[] lines = r.out().strip().split("\n");
    assertThat(lines[lines.length - 1]).startsWith("images_per_second=");
    assertThat(r.out()).contains("features [1, 4, 384]", "peak_rss_mb=");
    assertThat(run("bench", "teacher", "--precision", "fp16").code()).isEqualTo(2);
  }
}
