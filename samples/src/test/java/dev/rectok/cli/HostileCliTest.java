package dev.rectok.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.models.ModelFile;
import dev.rectok.torch.io.SafeTensors;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 at the command line: one exit-code scheme (2 usage, 3 bad input), option ranges and
 * choices checked before any work, no silent overwrite, convert keeps the latent statistics,
 * terminal-safe names, check-golden goes through every folder.
 */
class HostileCliTest {
  private static final Path GOLDEN =
      Path.of(System.getProperty("rectok.golden.dir", "../golden/public"));

  private static CliTest.Run run(String... args) {
    return CliTest.run(args);
  }

  @Test
  void outOfRangeAndUnknownValuesAreUsageErrorsNamingTheAllowedValues(@TempDir Path tmp) {
    String missing = tmp.resolve("absent.safetensors").toString();
    String out = tmp.resolve("out").toString();
    CliTest.Run steps =
        run(
            "generate",
            "--generator",
            missing,
            "--tokenizer",
            missing,
            "--labels",
            "1",
            "--steps",
            "2147483647",
            "--out",
            out);
    assertThat(steps.code()).isEqualTo(2);
    assertThat(steps.err()).contains("--steps must be in 2..10000", "2147483647");
    CliTest.Run inf =
        run(
            "generate",
            "--generator",
            missing,
            "--tokenizer",
            missing,
            "--labels",
            "1",
            "--guidance",
            "cfg",
            "--scale",
            "Infinity",
            "--out",
            out);
    assertThat(inf.code()).isEqualTo(2);
    assertThat(inf.err()).contains("--scale must be in 0..100");
    CliTest.Run guidance =
        run(
            "generate",
            "--generator",
            missing,
            "--tokenizer",
            missing,
            "--labels",
            "1",
            "--guidance",
            "bogus",
            "--out",
            out);
    assertThat(guidance.code()).isEqualTo(2);
    assertThat(guidance.err())
        .contains("--guidance must be one of none, cfg, autoguidance, got 'bogus'")
        .doesNotContain("No enum constant");
    CliTest.Run method =
        run(
            "generate",
            "--generator",
            missing,
            "--tokenizer",
            missing,
            "--labels",
            "1",
            "--method",
            "rk4",
            "--out",
            out);
    assertThat(method.err()).contains("--method must be one of euler, heun");
    CliTest.Run device =
        run(
            "generate",
            "--generator",
            missing,
            "--tokenizer",
            missing,
            "--labels",
            "1",
            "--device",
            "cuda:99",
            "--out",
            out);
    assertThat(device.code()).isEqualTo(2);
    assertThat(device.err())
        .contains("--device: device cuda:99 is not available: this LibTorch sees")
        .doesNotContain("dispatcher");
    CliTest.Run batch =
        run(
            "stats",
            "--tokenizer",
            missing,
            "--images",
            tmp.toString(),
            "--out",
            tmp.resolve("s.json").toString(),
            "--batch",
            "2147483647");
    assertThat(batch.code()).isEqualTo(2);
    assertThat(batch.err()).contains("--batch must be in 1..1024");
    assertThat(tmp.resolve("out")).as("nothing was created").doesNotExist();
    assertThat(tmp.resolve("s.json.checkpoint.json")).doesNotExist();
  }

  @Test
  void outputsAreNeverOverwrittenWithoutForceAndTheRefusalComesFirst(@TempDir Path tmp)
      throws IOException {
    Path img = tmp.resolve("x.png");
    Files.copy(GOLDEN.resolve("case5_preprocess/img0_333x517.png"), img);
    byte[] before = Files.readAllBytes(img);
    // the tokenizer does not even exist: the refusal happens before any work
    String absent = tmp.resolve("absent.safetensors").toString();
    CliTest.Run enc = run("encode", "--tokenizer", absent, "--out", img.toString(), img.toString());
    assertThat(enc.code()).isEqualTo(3);
    assertThat(enc.err()).contains(img.toString(), "refusing to overwrite", "--force");
    assertThat(Files.readAllBytes(img)).isEqualTo(before);

    Path samples = Files.createDirectories(tmp.resolve("samples"));
    Files.writeString(samples.resolve("sample_0001.png"), "keep me");
    CliTest.Run gen =
        run(
            "generate",
            "--generator",
            absent,
            "--tokenizer",
            absent,
            "--labels",
            "1,2",
            "--out",
            samples.toString());
    assertThat(gen.code()).isEqualTo(3);
    assertThat(gen.err()).contains("sample_0001.png", "refusing to overwrite");
    assertThat(Files.readString(samples.resolve("sample_0001.png"))).isEqualTo("keep me");

    Path model = Files.writeString(tmp.resolve("teacher.safetensors"), "keep me too");
    CliTest.Run teacher = run("train", "teacher", "--out", model.toString());
    assertThat(teacher.code()).isEqualTo(3);
    assertThat(teacher.err()).contains("teacher.safetensors", "refusing to overwrite");
    CliTest.Run export =
        run(
            "train",
            "generator",
            "--run",
            tmp.resolve("run").toString(),
            "--data",
            absent,
            "--tokenizer",
            absent,
            "--preset",
            "DiTDDT_s",
            "--export",
            model.toString());
    assertThat(export.code()).isEqualTo(3);
    assertThat(export.err()).contains("teacher.safetensors", "refusing to overwrite");
    assertThat(Files.readString(model)).isEqualTo("keep me too");
    assertThat(tmp.resolve("run")).as("no run folder was created").doesNotExist();

    CliTest.Run forced =
        run("encode", "--tokenizer", absent, "--out", img.toString(), "--force", img.toString());
    assertThat(forced.code()).as("--force lets it through to the missing tokenizer").isEqualTo(3);
    assertThat(forced.err()).contains("absent.safetensors");
    assertThat(Files.readAllBytes(img)).isEqualTo(before);
  }

  @Test
  void convertKeepsTheLatentStatisticsOfAModelFileAlsoInPlace(@TempDir Path tmp)
      throws IOException {
    Path case1 = GOLDEN.resolve("case1_tokenizer_inference");
    Path stats = tmp.resolve("stats.json");
    try (var g = dev.rectok.models.golden.GoldenCase.open(case1);
        var mean = g.tensor("input.latent_mean");
        var std = g.tensor("input.latent_std")) {
      new dev.rectok.models.stats.LatentStatistics(mean.toFloatArray(), std.toFloatArray(), 1, 1)
          .write(stats);
    }
    String cfg = case1.resolve("config.json").toString();
    Path tok = tmp.resolve("tok.safetensors");
    assertThat(
            run(
                    "convert",
                    case1.resolve("weights.pth").toString(),
                    tok.toString(),
                    "--kind",
                    "tokenizer",
                    "--config",
                    cfg,
                    "--stats",
                    stats.toString())
                .code())
        .isZero();
    Path again = tmp.resolve("again.safetensors");
    CliTest.Run keep =
        run("convert", tok.toString(), again.toString(), "--kind", "tokenizer", "--config", cfg);
    assertThat(keep.code()).as(keep.err()).isZero();
    assertThat(keep.out()).contains("with latent statistics kept from");
    assertThat(statisticsOf(again)).isEqualTo(statisticsOf(tok));
    byte[] before = Files.readAllBytes(again);
    CliTest.Run inPlace =
        run("convert", again.toString(), again.toString(), "--kind", "tokenizer", "--config", cfg);
    assertThat(inPlace.code()).isEqualTo(3);
    assertThat(Files.readAllBytes(again)).isEqualTo(before);
    assertThat(
            run(
                    "convert",
                    again.toString(),
                    again.toString(),
                    "--kind",
                    "tokenizer",
                    "--config",
                    cfg,
                    "--force")
                .code())
        .isZero();
    assertThat(statisticsOf(again)).isEqualTo(statisticsOf(tok));
    assertThat(
            run(
                    "convert",
                    again.toString(),
                    again.toString(),
                    "--kind",
                    "tokenizer",
                    "--config",
                    cfg,
                    "--force",
                    "--no-stats")
                .code())
        .isZero();
    assertThat(statisticsOf(again)).isNull();

    Path badCfg = tmp.resolve("bad.json");
    Files.writeString(badCfg, "{\"constructor_kwargs\": {,");
    CliTest.Run malformed =
        run(
            "convert",
            tok.toString(),
            tmp.resolve("x.safetensors").toString(),
            "--kind",
            "tokenizer",
            "--config",
            badCfg.toString());
    assertThat(malformed.code()).isEqualTo(3);
    assertThat(malformed.err()).contains("--config " + badCfg, "is not valid JSON");

    CliTest.Run noFolder =
        run(
            "encode",
            "--tokenizer",
            tok.toString(),
            "--out",
            tmp.resolve("nowhere/l.safetensors").toString(),
            GOLDEN.resolve("case5_preprocess/img0_333x517.png").toString());
    assertThat(noFolder.code()).isEqualTo(3);
    assertThat(noFolder.err())
        .contains("nowhere: the folder for l.safetensors does not exist")
        .doesNotContain(".tmp");
  }

  private static String statisticsOf(Path f) throws IOException {
    try (var st = SafeTensors.open(f)) {
      ModelFile.Header h = ModelFile.header(st);
      return h.hasStatistics()
          ? java.util.Arrays.toString(h.latentMean()) + java.util.Arrays.toString(h.latentStd())
          : null;
    }
  }

  @Test
  void emptyOrNonFiniteLatentsAreRefusedNamingTheFile(@TempDir Path tmp) throws IOException {
    Path empty = tmp.resolve("empty.safetensors");
    Path nan = tmp.resolve("nan.safetensors");
    try (Arena a = Arena.ofConfined()) {
      var seg = a.allocate(16);
      seg.set(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 4, Float.NaN);
      SafeTensors.write(
          empty,
          Map.of(
              "latents",
              new dev.rectok.torch.io.HostTensor(
                  dev.rectok.api.DType.FLOAT32, new long[] {0, 4, 1, 1}, a.allocate(0))),
          Map.of());
      SafeTensors.write(
          nan,
          Map.of(
              "latents",
              new dev.rectok.torch.io.HostTensor(
                  dev.rectok.api.DType.FLOAT32, new long[] {1, 4, 1, 1}, seg)),
          Map.of());
    }
    String absent = tmp.resolve("absent.safetensors").toString();
    CliTest.Run e =
        run(
            "decode",
            "--tokenizer",
            absent,
            "--out",
            tmp.resolve("d").toString(),
            empty.toString());
    assertThat(e.code()).isEqualTo(3);
    assertThat(e.err()).contains("empty.safetensors", "is empty").doesNotContain("reshape");
    CliTest.Run n =
        run("decode", "--tokenizer", absent, "--out", tmp.resolve("d").toString(), nan.toString());
    assertThat(n.code()).isEqualTo(3);
    assertThat(n.err()).contains("nan.safetensors", "non-finite value at flat index 1");
  }

  @Test
  void aPthOrAFifoGivenAsAModelFileIsNamedForWhatItIs(@TempDir Path tmp) throws Exception {
    String img = GOLDEN.resolve("case5_preprocess/img0_333x517.png").toString();
    CliTest.Run pth =
        run(
            "encode",
            "--tokenizer",
            GOLDEN.resolve("case1_tokenizer_inference/weights.pth").toString(),
            "--out",
            tmp.resolve("l.safetensors").toString(),
            img);
    assertThat(pth.code()).isEqualTo(3);
    assertThat(pth.err())
        .contains("weights.pth", "is a PyTorch checkpoint (torch.save zip)", "rectok convert")
        .doesNotContain("header length");
    Path fifo = tmp.resolve("fifo.safetensors");
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
    CliTest.Run f =
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
            java.time.Duration.ofSeconds(30),
            () ->
                run(
                    "encode",
                    "--tokenizer",
                    fifo.toString(),
                    "--out",
                    tmp.resolve("l.safetensors").toString(),
                    img));
    assertThat(f.code()).isEqualTo(3);
    assertThat(f.err()).contains("fifo.safetensors", "not a regular file");
    CliTest.Run dir =
        run(
            "encode",
            "--tokenizer",
            GOLDEN.resolve("case1_tokenizer_inference").toString(),
            "--out",
            tmp.resolve("l.safetensors").toString(),
            img);
    assertThat(dir.err()).contains("is a folder");
  }

  @Test
  void namesFromFilesAreEscapedBeforeTheyReachTheTerminal(@TempDir Path tmp) throws IOException {
    Path f = tmp.resolve("evil.safetensors");
    try (Arena a = Arena.ofConfined()) {
      SafeTensors.write(
          f,
          Map.of(
              "w\u001b]0;pwned\u0007\u001b[2J",
              new dev.rectok.torch.io.HostTensor(
                  dev.rectok.api.DType.FLOAT32, new long[] {1}, a.allocate(4))),
          Map.of("note\u009b", "x\u001b[31m"));
    }
    CliTest.Run r = run("inspect", f.toString());
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .doesNotContain("\u001b")
        .doesNotContain("\u0007")
        .doesNotContain("\u009b")
        .contains("w\\x1b]0;pwned\\x07\\x1b[2J", "note\\x9b = x\\x1b[31m");
  }

  @Test
  void checkGoldenGoesThroughEveryFolderAndSummarizes(@TempDir Path tmp) throws IOException {
    Path malformed = Files.createDirectories(tmp.resolve("malformed"));
    Files.writeString(malformed.resolve("config.json"), "{\"case\": ");
    Path noKind = Files.createDirectories(tmp.resolve("nokind"));
    Files.writeString(noKind.resolve("config.json"), "{}");
    CliTest.Run r =
        run(
            "check-golden",
            malformed.toString(),
            noKind.toString(),
            GOLDEN.resolve("case5_preprocess").toString(),
            tmp.resolve("absent").toString());
    assertThat(r.code()).isEqualTo(3);
    assertThat(r.out())
        .contains(
            "malformed/config.json is not valid JSON",
            "nokind/config.json has no \"case\" field",
            "PASS",
            "absent: ERROR not a directory",
            "1 of 4 folders passed, 0 failed, 3 could not be read")
        .doesNotContain("case kind ''");
  }
}
