package dev.rectok.cli;

import dev.rectok.api.Backends;
import dev.rectok.api.FlowDistiller;
import dev.rectok.api.FlowDistillerSpec;
import dev.rectok.api.TrainingLimits;
import dev.rectok.api.TrainingReport;
import dev.rectok.models.dit.DiTConfig;
import dev.rectok.train.data.FashionMnist;
import dev.rectok.train.generator.GeneratorRun;
import dev.rectok.train.generator.GeneratorTrainingConfig;
import dev.rectok.train.recipe.FashionMnistRecipe;
import dev.rectok.train.teacher.TeacherTrainer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rectok train ...}: the trainers, each resumable in its run directory. */
@Command(
    name = "train",
    description =
        "Train teachers, tokenizers (stage 1 / 2), generators, or the whole Fashion-MNIST recipe.",
    subcommands = {
      TrainCommand.Recipe.class,
      TrainCommand.Teacher.class,
      TrainCommand.Tokenizer.class,
      TrainCommand.Generator.class
    })
final class TrainCommand implements Runnable {
  /** Nanoseconds in a minute, for the recipe's closing line (issue 9: named, not 6e10 inline). */
  private static final double NANOS_PER_MINUTE = 60e9;

  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }

  /** The run directory and the training data, shared by the trainers. */
  static final class RunOptions {
    @Option(
        names = "--run",
        required = true,
        description = "run directory (rerun the same command to resume)")
    Path run;

    @Option(
        names = "--data",
        required = true,
        description = "Fashion-MNIST folder, image folder or file list")
    Path data;
  }

  /** Step and time limits shared by the trainers. */
  static final class LimitOptions {
    @Option(
        names = "--max-steps",
        description = "stop after this many optimizer steps in total (resume later)")
    Long maxSteps;

    @Option(
        names = "--max-minutes",
        description = "stop after this many minutes of this call (resume later)")
    Double maxMinutes;

    TrainingLimits get() {
      TrainingLimits l = TrainingLimits.none();
      if (maxSteps != null) {
        l = l.withMaxSteps(maxSteps);
      }
      if (maxMinutes != null) {
        l = l.withMaxMinutes(maxMinutes);
      }
      return l;
    }
  }

  static Map<String, Object> parse(List<String> assignments) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (String a : assignments) {
      int eq = a.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("expected key=value, got '" + a + "'");
      }
      String v = a.substring(eq + 1);
      Object value = v;
      if (v.startsWith("{") || v.startsWith("[")) {
        try {
          value = new com.fasterxml.jackson.databind.ObjectMapper().readValue(v, Object.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          throw new IllegalArgumentException(
              "'" + a.substring(0, eq) + "': not valid JSON: " + e.getOriginalMessage());
        }
      } else if (v.equals("true") || v.equals("false")) {
        value = Boolean.parseBoolean(v);
      } else {
        try {
          value = v.matches("-?\\d+") ? (Object) Long.parseLong(v) : (Object) Double.parseDouble(v);
        } catch (NumberFormatException notANumber) {
          value = v;
        }
      }
      out.put(a.substring(0, eq), value);
    }
    return out;
  }

  static void print(String what, TrainingReport r) {
    System.out.printf(
        "%s: %s at step %d (%s%s), %.1f images/s%n",
        what,
        r.completed() ? "finished" : "stopped",
        r.steps(),
        r.stoppedBy(),
        r.resumedAtStep() > 0 ? ", resumed at step " + r.resumedAtStep() : "",
        r.imagesPerSecond());
    r.lastMetrics().forEach((k, v) -> System.out.printf("  %-22s %.6g%n", k, v));
    System.out.println("run directory: " + r.runDirectory());
  }

  @Command(
      name = "recipe",
      description =
          "Train the demo's models on Fashion-MNIST: teacher, tokenizer (FSD + RAD), DiT^DH and its AutoGuidance companion.")
  static final class Recipe implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "folder for the four model files")
    Path out;

    @Option(
        names = "--work",
        description = "folder for the resumable runs (default: OUT/../recipe-work)")
    Path work;

    @Option(names = "--data", description = "Fashion-MNIST folder (default: ${DEFAULT-VALUE})")
    Path data = FashionMnist.defaultDir();

    @Option(
        names = "--teacher",
        description = "use this teacher model file instead of training one")
    Path teacher;

    @Option(names = "--seed", description = "seed of every stage (default: ${DEFAULT-VALUE})")
    long seed = 0;

    @Option(names = "--max-steps-per-stage", description = "cap each stage, for a quick run")
    Long maxSteps;

    @Override
    public Integer call() throws Exception {
      if (dev.rectok.torch.distributed.DistributedEnv.from(System.getenv())
          .map(e -> e.worldSize() > 1)
          .orElse(false)) {
        throw new IllegalArgumentException(
            "train recipe runs in one process; launch its stages (train teacher, "
                + "train tokenizer, train generator) separately with rectok launch"); // issue 14
      }
      FashionMnistRecipe.Settings s = FashionMnistRecipe.Settings.defaults().withSeed(seed);
      if (maxSteps != null) {
        s =
            s.withBudget(
                s.trainImages(),
                s.tokenizerEpochs(),
                s.generatorEpochs(),
                s.guideEpochs(),
                maxSteps);
      }
      Path w = work != null ? work : out.toAbsolutePath().getParent().resolve("recipe-work");
      long t0 = System.nanoTime();
      for (FashionMnistRecipe.Stage st :
          FashionMnistRecipe.run(data, out, w, teacher, s, new ConsoleProgress(System.err))) {
        System.out.printf(
            "%-10s %6.0f s  %6d steps  %7.1f images/s  %s%n",
            st.name(),
            st.seconds(),
            st.report().steps(),
            st.report().imagesPerSecond(),
            st.report().lastMetrics());
      }
      System.out.printf(
          "recipe done in %.1f min: %s%n", (System.nanoTime() - t0) / NANOS_PER_MINUTE, out);
      return 0;
    }
  }

  @Command(
      name = "teacher",
      description =
          "Train the ViT teacher classifier on Fashion-MNIST (32x32) and write its model file.")
  static final class Teacher implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "teacher model file (.safetensors)")
    Path out;

    @Option(names = "--seed", description = "seed (default: ${DEFAULT-VALUE})")
    long seed = 0;

    @Mixin ForceOption force;

    @Override
    public Integer call() throws Exception {
      OptionChecks.refuseOverwrite(force.force, List.of(out)); // issue 10: before any work
      TeacherTrainer.Result r;
      try (DistributedSession dist = DistributedSession.open()) { // issue 14
        r = TeacherTrainer.trainDefault(out, seed, dist.progress());
        dist.done();
      }
      System.out.printf(
          "teacher: test accuracy %.2f%%, %d steps, %.0f images/s -> %s%n",
          100 * r.testAccuracy(), r.steps(), r.imagesPerSecond(), out);
      return 0;
    }
  }

  @Command(
      name = "tokenizer",
      description =
          "Train a RecTok tokenizer: stage 1 (flow semantic + reconstruction-alignment distillation) or stage 2 (decoder fine-tuning).")
  static final class Tokenizer implements Callable<Integer> {
    @Mixin RunOptions where;

    @Option(
        names = "--teacher",
        description = "stage 1: teacher model file or folder of precomputed feature shards")
    Path teacher;

    @Option(names = "--stage", description = "1 or 2 (default: ${DEFAULT-VALUE})")
    int stage = 1;

    @Option(
        names = "--init-from",
        description = "stage 2: the stage-1 run directory or tokenizer model file")
    Path initFrom;

    @Option(
        names = "--model",
        description =
            "tokenizer constructor argument, reference name (e.g. preset=rectok_BB_stage1, token_channels=32)")
    List<String> model = List.of();

    @Option(
        names = "--set",
        description =
            "training setting, reference name (e.g. epochs=20, batch_size=64, lr=1e-3, sem_loss_weight=0)")
    List<String> settings = List.of();

    @Option(names = "--export", description = "write the EMA tokenizer model file when done")
    Path export;

    @Mixin ForceOption force;

    @Option(
        names = "--stats-images",
        description = "images for the exported latent statistics (default: ${DEFAULT-VALUE})")
    int statsImages = 10_000;

    @Mixin LimitOptions limits;

    @Mixin DeviceOption device;

    @Override
    public Integer call() throws Exception {
      OptionChecks.refuseOverwrite(
          force.force, java.util.Collections.singletonList(export)); // issue 10
      FlowDistillerSpec.Builder b =
          FlowDistillerSpec.builder(where.run, where.data).teacher(teacher).device(device.get());
      if (stage == 2) {
        b.stage2(initFrom);
      }
      parse(model).forEach(b::model);
      parse(settings).forEach(b::training);
      try (DistributedSession dist =
              DistributedSession.open(); // issue 14: joins a launched job, else nothing
          FlowDistiller d = Backends.openFlowDistiller(b.build())) {
        TrainingReport r = d.train(limits.get(), dist.progress());
        if (dist.isMain()) {
          print("tokenizer stage " + stage, r);
          if (export != null) {
            d.export(export, statsImages, dist.progress());
            System.out.println("wrote " + export);
          }
        }
        dist.done();
      }
      return 0;
    }
  }

  @Command(
      name = "generator",
      description =
          "Train a DiT^DH generator (or an AutoGuidance companion) on a tokenizer's latents by flow matching.")
  static final class Generator implements Callable<Integer> {
    @Mixin RunOptions where;

    @Option(
        names = "--tokenizer",
        required = true,
        description = "tokenizer model file with latent statistics")
    Path tokenizer;

    @Option(
        names = "--preset",
        description = "DiT preset (DiTDDT_s, _b, _l, _xl), adapted to the tokenizer's latents")
    String preset;

    @Option(
        names = "--model",
        description = "DiT constructor arguments as JSON (reference names), instead of --preset")
    String modelJson;

    @Option(
        names = "--set",
        description =
            "training setting (lr, min_lr, sched_constant_epochs, sched_end_epoch, ema_decay, label_drop_prob, batch_size, epochs, seed, ...)")
    List<String> settings = List.of();

    @Option(names = "--train-images", description = "cap on the training set")
    int trainImages = -1;

    @Option(
        names = "--latent-cache",
        description = "encode the training set once into this file instead of online")
    Path latentCache;

    @Option(names = "--export", description = "write the EMA generator model file when done")
    Path export;

    @Mixin ForceOption force;

    @Option(
        names = "--autocast",
        description =
            "none, bf16 (forward under bf16 autocast, as the reference on CUDA) or fp16 (CUDA)")
    String autocast = "none";

    @Mixin LimitOptions limits;

    @Mixin DeviceOption device;

    @Override
    public Integer call() throws Exception {
      OptionChecks.refuseOverwrite(
          force.force, java.util.Collections.singletonList(export)); // issue 10
      DiTConfig model;
      var json = new com.fasterxml.jackson.databind.ObjectMapper();
      if (modelJson != null) {
        com.fasterxml.jackson.databind.JsonNode kwargs;
        try {
          kwargs = json.readTree(modelJson);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
          throw new picocli.CommandLine.ParameterException(
              new picocli.CommandLine(this),
              "--model must be a JSON object of DiT constructor arguments: "
                  + e.getOriginalMessage());
        }
        model = DiTConfig.fromConstructorKwargs(kwargs);
      } else if (preset != null) {
        dev.rectok.models.tokenizer.RecTokConfig tok;
        try (var f = dev.rectok.models.ModelFile.open(tokenizer)) {
          tok = dev.rectok.models.ModelFile.header(f).tokenizerConfig();
        }
        model =
            DiTConfig.preset(preset).toBuilder()
                .imgSize(tok.imgSize())
                .tokenizerPatchSize(tok.patchSize())
                .tokenChannels(tok.tokenChannels())
                .build();
      } else {
        throw new IllegalArgumentException("give --preset or --model");
      }
      var cfgJson = GeneratorTrainingConfig.builder(model).build().toJson();
      cfgJson.setAll(
          (com.fasterxml.jackson.databind.node.ObjectNode) json.valueToTree(parse(settings)));
      GeneratorTrainingConfig cfg = GeneratorTrainingConfig.fromJson(cfgJson);
      try (DistributedSession dist =
              DistributedSession.open(); // issue 14: joins a launched job, else nothing
          GeneratorRun r =
              GeneratorRun.open(
                  where.run,
                  where.data,
                  trainImages,
                  tokenizer,
                  cfg,
                  latentCache,
                  device.get(),
                  dist.progress())) {
        r.trainer().mixedPrecision(dev.rectok.torch.Autocast.parse(autocast));
        TrainingReport report = r.train(limits.get(), dist.progress());
        if (dist.isMain()) {
          print("generator", report);
          if (export != null) {
            r.export(export);
            System.out.println("wrote " + export);
          }
        }
        dist.done();
      }
      return 0;
    }
  }
}
