package dev.rectok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CliTest {
  private static final Path GOLDEN =
      Path.of(System.getProperty("rectok.golden.dir", "../golden/public"));

  /** A finished command: its exit code and what it printed. */
  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    StringWriter picoErr = new StringWriter();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      CommandLine cli = RecTokCli.commandLine();
      cli.setErr(new PrintWriter(picoErr, true));
      int code = cli.execute(args);
      return new Run(
          code,
          out.toString(StandardCharsets.UTF_8),
          err.toString(StandardCharsets.UTF_8) + picoErr);
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @Test
  void doctorReportsTheRuntime() {
    Run r = run("doctor");
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .contains("libtorch", "shim", "BLAS", "intra-op threads", "CUDA devices", "native access");
  }

  @Test
  void inspectListsEveryTensorOfAGoldenCheckpoint() {
    Run r = run("inspect", GOLDEN.resolve("case3_dit_forward/weights.pth").toString());
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .contains(
            "top-level keys [model, model_ema, epoch, last_elapsed_time]",
            "model_ema.x_embedder.proj.weight",
            "F32",
            "[80, 80, 1, 1]",
            "epoch");
    Run st = run("inspect", GOLDEN.resolve("case3_dit_forward/weights.safetensors").toString());
    assertThat(st.code()).isZero();
    assertThat(st.out()).contains("safetensors", "x_embedder.proj.weight", "total");
  }

  @Test
  void inspectRefusesBrokenFilesWithAReason(@TempDir Path tmp) throws IOException {
    Path truncated = tmp.resolve("t.pth");
    byte[] all = Files.readAllBytes(GOLDEN.resolve("case3_dit_forward/weights.pth"));
    Files.write(truncated, java.util.Arrays.copyOf(all, all.length / 2));
    Run r = run("inspect", truncated.toString());
    assertThat(r.code()).isEqualTo(3);
    assertThat(r.err()).contains("refusing", "t.pth");

    Path junk = tmp.resolve("j.safetensors");
    Files.writeString(junk, "{\"not\": \"a header\"}");
    Run j = run("inspect", junk.toString());
    assertThat(j.code()).isEqualTo(3);
    assertThat(j.err()).contains("refusing");

    Run missing = run("inspect", tmp.resolve("absent.pth").toString());
    assertThat(missing.code()).isEqualTo(3);
    assertThat(missing.err()).contains("absent.pth");
  }

  @Test
  void unknownCommandsAndOptionsAreUsageErrors() {
    assertThat(run("frobnicate").code()).isEqualTo(2);
    assertThat(run("demo", "--epochs", "many").code()).isEqualTo(2);
  }

  @Test
  void checkGoldenPassesAReplayableFolderAndFailsOthers(@TempDir Path tmp) {
    Run ok =
        run(
            "check-golden",
            GOLDEN.resolve("case5_preprocess").toString(),
            GOLDEN.resolve("case3_dit_forward").toString());
    assertThat(ok.code()).isZero();
    assertThat(ok.out()).contains("output.velocity", "PASS", "2 of 2 folders passed");
    Run bad = run("check-golden", tmp.toString());
    assertThat(bad.code()).isEqualTo(3);
    assertThat(bad.out()).contains("not a golden folder", "0 of 1 folders passed");
  }

  /**
   * The tokenizer of golden case1 and the DiTs of case3b share an 80 x 8 x 8 latent: a full
   * pipeline.
   */
  @Test
  void convertGenerateEncodeDecodeEndToEnd(@TempDir Path tmp) throws IOException {
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    Path case1 = GOLDEN.resolve("case1_tokenizer_inference");
    Path case3b = GOLDEN.resolve("case3b_dit_sampling");
    Path stats = tmp.resolve("stats.json");
    Path guideCfg = tmp.resolve("guide.json");
    try (var g = dev.rectok.models.golden.GoldenCase.open(case1);
        var mean = g.tensor("input.latent_mean");
        var std = g.tensor("input.latent_std")) {
      new dev.rectok.models.stats.LatentStatistics(mean.toFloatArray(), std.toFloatArray(), 1, 1)
          .write(stats);
    }
    var guideNode = json.createObjectNode();
    guideNode.set(
        "constructor_kwargs",
        json.readTree(case3b.resolve("config.json").toFile()).get("guide_constructor_kwargs"));
    json.writeValue(guideCfg.toFile(), guideNode);
    String tok = tmp.resolve("tok.safetensors").toString();
    String gen = tmp.resolve("gen.safetensors").toString();
    String guide = tmp.resolve("guide.safetensors").toString();
    assertThat(
            run(
                    "convert",
                    case1.resolve("weights.pth").toString(),
                    tok,
                    "--kind",
                    "tokenizer",
                    "--config",
                    case1.resolve("config.json").toString(),
                    "--stats",
                    stats.toString())
                .code())
        .isZero();
    assertThat(
            run(
                    "convert",
                    case3b.resolve("weights.pth").toString(),
                    gen,
                    "--kind",
                    "generator",
                    "--config",
                    case3b.resolve("config.json").toString())
                .code())
        .isZero();
    assertThat(
            run(
                    "convert",
                    case3b.resolve("guide_weights.pth").toString(),
                    guide,
                    "--kind",
                    "generator",
                    "--config",
                    guideCfg.toString())
                .code())
        .isZero();

    Path out = tmp.resolve("samples");
    Run g =
        run(
            "generate",
            "--generator",
            gen,
            "--guide",
            guide,
            "--tokenizer",
            tok,
            "--labels",
            "1,2,3",
            "--seed",
            "4",
            "--steps",
            "6",
            "--guidance",
            "autoguidance",
            "--out",
            out.toString(),
            "--grid",
            tmp.resolve("grid.png").toString());
    assertThat(g.code()).as(g.err()).isZero();
    assertThat(out.resolve("sample_0002.png")).exists();
    assertThat(javax.imageio.ImageIO.read(tmp.resolve("grid.png").toFile()).getWidth())
        .isEqualTo(3 * 64);

    Path lat = tmp.resolve("lat.safetensors");
    assertThat(
            run(
                    "encode",
                    "--tokenizer",
                    tok,
                    "--out",
                    lat.toString(),
                    out.resolve("sample_0000.png").toString(),
                    GOLDEN.resolve("case5_preprocess/img0_333x517.png").toString())
                .code())
        .isZero();
    assertThat(
            run(
                    "decode",
                    "--tokenizer",
                    tok,
                    "--out",
                    tmp.resolve("dec").toString(),
                    lat.toString())
                .code())
        .isZero();
    assertThat(tmp.resolve("dec/decoded_0001.png")).exists();
    assertThat(
            run(
                    "reconstruct",
                    "--tokenizer",
                    tok,
                    "--out",
                    tmp.resolve("rec").toString(),
                    GOLDEN.resolve("case5_preprocess/img1_701x299.png").toString())
                .code())
        .isZero();

    // bad inputs: clear errors, non-zero exit, nothing crashes
    Run badLabel =
        run(
            "generate",
            "--generator",
            gen,
            "--tokenizer",
            tok,
            "--labels",
            "10",
            "--out",
            tmp.resolve("fresh").toString());
    assertThat(badLabel.code()).isEqualTo(3);
    assertThat(badLabel.err()).contains("label 10 is outside 0..9");
    Run wrongKind =
        run(
            "generate",
            "--generator",
            tok,
            "--tokenizer",
            tok,
            "--labels",
            "1",
            "--out",
            tmp.resolve("fresh").toString());
    assertThat(wrongKind.err()).contains("holds a tokenizer, not a generator");
    Run noGuide =
        run(
            "generate",
            "--generator",
            gen,
            "--tokenizer",
            tok,
            "--labels",
            "1",
            "--guidance",
            "autoguidance",
            "--out",
            tmp.resolve("fresh").toString());
    assertThat(noGuide.err()).contains("needs --guide");
    Run notImage =
        run(
            "encode",
            "--tokenizer",
            tok,
            "--out",
            tmp.resolve("lat2.safetensors").toString(),
            stats.toString());
    assertThat(notImage.code()).isEqualTo(3);
    assertThat(notImage.err()).contains("stats.json");
  }

  @Test
  void statsIsResumableAndFeedsConvert(@TempDir Path tmp) throws IOException {
    Path case1 = GOLDEN.resolve("case1_tokenizer_inference");
    String bare = tmp.resolve("bare.safetensors").toString();
    assertThat(
            run(
                    "convert",
                    case1.resolve("weights.pth").toString(),
                    bare,
                    "--kind",
                    "tokenizer",
                    "--config",
                    case1.resolve("config.json").toString())
                .code())
        .isZero();
    Path images = tmp.resolve("images/nested");
    java.nio.file.Files.createDirectories(images);
    for (String f : new String[] {"img0_333x517.png", "img1_701x299.png", "img2_523x517.png"}) {
      java.nio.file.Files.copy(GOLDEN.resolve("case5_preprocess").resolve(f), images.resolve(f));
    }
    java.nio.file.Files.writeString(images.resolve("broken.png"), "not a png");
    Path out = tmp.resolve("stats.json");
    Run first =
        run(
            "stats",
            "--tokenizer",
            bare,
            "--images",
            tmp.resolve("images").toString(),
            "--out",
            out.toString(),
            "--batch",
            "1",
            "--max-images",
            "1");
    assertThat(first.code()).isZero();
    assertThat(first.out()).contains("stopped early");
    assertThat(out).doesNotExist();
    Run rest =
        run(
            "stats",
            "--tokenizer",
            bare,
            "--images",
            tmp.resolve("images").toString(),
            "--out",
            out.toString(),
            "--batch",
            "1");
    assertThat(rest.code()).isZero();
    assertThat(rest.out()).contains("resumed", "3 images (1 unreadable, skipped)", "80 channels");
    assertThat(
            run(
                    "convert",
                    case1.resolve("weights.pth").toString(),
                    tmp.resolve("tok.safetensors").toString(),
                    "--kind",
                    "tokenizer",
                    "--config",
                    case1.resolve("config.json").toString(),
                    "--stats",
                    out.toString())
                .code())
        .isZero();
    Run missing =
        run(
            "stats",
            "--tokenizer",
            bare,
            "--images",
            tmp.resolve("nowhere").toString(),
            "--out",
            tmp.resolve("other.json").toString());
    assertThat(missing.code()).isEqualTo(3);
    assertThat(missing.err()).contains("nowhere");
  }

  @Test
  void benchPrintsMachineReadableLinesLast() {
    Run r = run("bench", "dit", "--preset", "DiTDDT_s", "--iters", "1", "--warmup", "0");
    assertThat(r.code()).isZero();
    String[] lines = r.out().trim().split("\\R");
    assertThat(lines[lines.length - 5]).matches("cpu_ms_per_forward=[0-9.]+");
    assertThat(lines[lines.length - 4]).matches("images_per_second=[0-9.]+");
    assertThat(lines[lines.length - 3]).matches("ms_per_forward=[0-9.]+");
    assertThat(lines[lines.length - 2]).matches("peak_rss_mb=[0-9]+");
    // the block allocator is on by default (docs/runtime.md#cpu-allocator)
    assertThat(lines[lines.length - 1]).matches("peak_tensor_block_mb=[0-9]+");
    assertThat(run("bench", "tokenizer", "--mode", "sideways", "--iters", "1").code()).isNotZero();
    assertThat(run("bench", "dit", "--iters", "0").code()).isNotZero();
  }

  private static final Path SHIPPED = Path.of("models/fashion-mnist");

  /**
   * Missing data fails the test unless -Drectok.test.allowMissingData=true makes it a reported
   * skip.
   */
  private static void assumeFashionMnist() {
    java.nio.file.Path dir = dev.rectok.train.data.FashionMnist.defaultDir();
    if (dev.rectok.train.data.FashionMnist.isAvailable(dir)) {
      return;
    }
    String msg =
        "Fashion-MNIST is not installed at "
            + dir
            + " (bin/setup installs it: apt-get install dataset-fashion-mnist)";
    if (!Boolean.getBoolean("rectok.test.allowMissingData")) {
      throw new AssertionError(
          msg + ". -Drectok.test.allowMissingData=true skips these tests instead.");
    }
    org.junit.jupiter.api.Assumptions.abort(
        msg + "; skipped because -Drectok.test.allowMissingData=true");
  }

  @Test
  void demoReconstructsAndGeneratesWithTheShippedModels(@TempDir Path tmp) throws IOException {
    assumeFashionMnist();
    Run r = run("demo", "--models", SHIPPED.toString(), "--quick", "--out", tmp.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("rectok doctor", "reconstruction PSNR", "linear probe on latents", "domain FID");
    double psnr =
        Double.parseDouble(
            r.out()
                .replaceAll(
                    "(?s).*reconstruction PSNR \\([0-9]+ test images\\) +([0-9.]+) dB.*", "$1"));
    assertThat(psnr).as("the shipped tokenizer reconstructs").isGreaterThan(18.0);
    java.awt.image.BufferedImage rec =
        javax.imageio.ImageIO.read(tmp.resolve("reconstructions.png").toFile());
    java.awt.image.BufferedImage gen =
        javax.imageio.ImageIO.read(tmp.resolve("generated.png").toFile());
    assertThat(rec.getWidth()).isEqualTo(16 * 64); // 32 px images shown at 2x
    assertThat(gen.getWidth()).isEqualTo(8 * 64);
    assertThat(gen.getHeight()).isGreaterThanOrEqualTo(10 * 64); // a labelled row per class
    Run missing = run("demo", "--models", tmp.toString(), "--quick");
    assertThat(missing.code()).isEqualTo(3);
    assertThat(missing.err()).contains("is missing", "rectok train recipe");
  }

  @Test
  void trainTokenizerAndGeneratorFromTheCommandLineResumeAndExport(@TempDir Path tmp)
      throws IOException {
    assumeFashionMnist();
    String data = dev.rectok.train.data.FashionMnist.defaultDir().toString();
    String teacher = SHIPPED.resolve("teacher.safetensors").toString();
    String[] tok = {
      "train",
      "tokenizer",
      "--run",
      tmp.resolve("tok").toString(),
      "--data",
      data,
      "--teacher",
      teacher,
      "--model",
      "preset=rectok_BB_stage1",
      "--model",
      "img_size=32",
      "--model",
      "patch_size=8",
      "--model",
      "vit_enc_model_size=t",
      "--model",
      "vit_dec_model_size=t",
      "--model",
      "vit_sem_model_size=t",
      "--model",
      "token_channels=8",
      "--set",
      "train_images=128",
      "--set",
      "batch_size=32",
      "--set",
      "epochs=2",
      "--set",
      "log_every=1"
    };
    Run bad = run("train", "tokenizer", "--run", tmp.resolve("x").toString(), "--data", data);
    assertThat(bad.code()).isEqualTo(3);
    assertThat(bad.err()).contains("stage 1 needs a teacher");
    String[] first = concat(tok, "--max-steps", "2");
    Run r1 = run(withSizes(first));
    assertThat(r1.code()).as(r1.err()).isZero();
    assertThat(r1.out()).contains("tokenizer stage 1: stopped at step 2 (max-steps)", "sem_cosine");
    Run r2 =
        run(
            withSizes(
                concat(
                    tok,
                    "--max-steps",
                    "3",
                    "--export",
                    tmp.resolve("tok.safetensors").toString(),
                    "--stats-images",
                    "64")));
    assertThat(r2.code()).as(r2.err()).isZero();
    assertThat(r2.out()).contains("stopped at step 3", "resumed at step 2", "wrote");
    assertThat(java.nio.file.Files.readAllLines(tmp.resolve("tok").resolve("metrics.jsonl")))
        .hasSize(3);
    Run g =
        run(
            "train",
            "generator",
            "--run",
            tmp.resolve("gen").toString(),
            "--data",
            data,
            "--tokenizer",
            tmp.resolve("tok.safetensors").toString(),
            "--model",
            "{\"img_size\": 32, \"tokenizer_patch_size\": 8, \"token_channels\": 8, \"hidden_size\": [32, 32], "
                + "\"depth\": [1, 1], \"num_heads\": [2, 2], \"num_classes\": 10}",
            "--set",
            "batch_size=32",
            "--set",
            "epochs=1",
            "--train-images",
            "64",
            "--max-steps",
            "2",
            "--export",
            tmp.resolve("gen.safetensors").toString());
    assertThat(g.code()).as(g.err()).isZero();
    assertThat(g.out()).contains("generator: finished at step 2", "label_drop_fraction");
    assertThat(tmp.resolve("gen.safetensors")).isRegularFile();
  }

  private static String[] withSizes(String[] args) {
    // a tiny size 't' for encoder, decoder and semantic decoder
    return concat(
        args,
        "--model",
        "size_dict_additions={\"t\": {\"width\": 32, \"layers\": 1, \"heads\": 2}}");
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
