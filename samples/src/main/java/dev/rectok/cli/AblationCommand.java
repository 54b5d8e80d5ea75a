package dev.rectok.cli;

import dev.rectok.api.Device;
import dev.rectok.api.GenerateOptions;
import dev.rectok.api.Progress;
import dev.rectok.generate.DiTGenerator;
import dev.rectok.models.RecTokTokenizer;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.train.data.FashionMnist;
import dev.rectok.train.metrics.LinearProbe;
import dev.rectok.train.recipe.DemoEvaluation;
import dev.rectok.train.recipe.FashionMnistModels;
import dev.rectok.train.recipe.FashionMnistRecipe;
import dev.rectok.train.teacher.VitTeacher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rectok ablation}: the paper's claim at CPU scale. Trains the same tokenizer with and
 * without the semantic (FSD + RAD) loss, optionally at several latent widths, then a DiT^DH on
 * each, and prints PSNR, linear-probe accuracy and unguided domain FID side by side. Every run is
 * resumable under {@code --work}.
 */
@Command(
    name = "ablation",
    description =
        "Train tokenizers with and without the semantic loss (and at several latent widths) and compare PSNR, linear probe and domain FID.")
final class AblationCommand implements Callable<Integer> {
  @Option(
      names = "--work",
      required = true,
      description = "folder for the runs and model files (rerun to resume)")
  Path work;

  @Option(names = "--teacher", description = "teacher model file (default: the shipped one)")
  Path teacher = DemoCommand.defaultModels().resolve(FashionMnistRecipe.TEACHER);

  @Option(names = "--data", description = "Fashion-MNIST folder (default: ${DEFAULT-VALUE})")
  Path data = FashionMnist.defaultDir();

  @Option(
      names = "--widths",
      split = ",",
      description = "latent channels per token (default: ${DEFAULT-VALUE})")
  List<Integer> widths = List.of(FashionMnistModels.TOKEN_CHANNELS);

  @Option(
      names = "--train-images",
      description = "training images per run (default: ${DEFAULT-VALUE})")
  int trainImages = 20_000;

  @Option(names = "--tokenizer-epochs", description = "(default: ${DEFAULT-VALUE})")
  int tokenizerEpochs = 2;

  @Option(names = "--generator-epochs", description = "(default: ${DEFAULT-VALUE})")
  int generatorEpochs = 2;

  @Option(names = "--max-steps-per-stage", description = "cap each stage, for a quick run")
  long maxSteps = Long.MAX_VALUE;

  @Option(names = "--seed", description = "(default: ${DEFAULT-VALUE})")
  long seed = 0;

  @Override
  public Integer call() throws Exception {
    DemoEvaluation.Options o = DemoEvaluation.Options.demo().withSeed(seed);
    FashionMnist train = FashionMnist.load(data, true, o.probeTrain());
    FashionMnist test = FashionMnist.load(data, false, o.testImages());
    StringBuilder table =
        new StringBuilder(
            String.format(
                "%n| latent | semantic loss | PSNR (dB) | linear probe | domain FID (unguided) |%n"
                    + "|---|---|---|---|---|%n"));
    for (int width : widths) {
      for (double sem : new double[] {1.0, 0.0}) {
        String name = "c" + width + (sem > 0 ? "-sem" : "-nosem");
        Path dir = work.resolve(name);
        Files.createDirectories(dir);
        FashionMnistRecipe.Settings s =
            FashionMnistRecipe.Settings.defaults()
                .withSeed(seed)
                .withTokenChannels(width)
                .withSemLossWeight(sem)
                .withBudget(trainImages, tokenizerEpochs, generatorEpochs, 1, maxSteps);
        Path tokFile = dir.resolve(FashionMnistRecipe.TOKENIZER);
        Progress p = new ConsoleProgress(System.err);
        if (!Files.exists(tokFile)) {
          FashionMnistRecipe.tokenizer(data, teacher, dir.resolve("tokenizer-run"), tokFile, s, p);
        }
        Path genFile = dir.resolve(FashionMnistRecipe.GENERATOR);
        if (!Files.exists(genFile)) {
          FashionMnistRecipe.generator(
              "generator",
              FashionMnistModels.generator(width),
              generatorEpochs,
              data,
              tokFile,
              dir.resolve("generator-run"),
              genFile,
              s,
              p);
        }
        try (RecTokTokenizer tok = RecTokTokenizer.open(tokFile, Device.CPU);
            DiTGenerator gen = DiTGenerator.open(genFile, null, Device.CPU);
            VitTeacher t = VitTeacher.load(teacher);
            Scope sc = Scope.open()) {
          Tensor testX = DemoEvaluation.rgb(test);
          Tensor trainX = DemoEvaluation.rgb(train);
          double psnr = DemoEvaluation.psnr(tok, testX, 250);
          double probe =
              LinearProbe.fit(
                      DemoEvaluation.latentFeatures(tok, trainX, 500),
                      train.labelsTensor(),
                      DemoEvaluation.latentFeatures(tok, testX, 500),
                      test.labelsTensor(),
                      LinearProbe.Config.defaults().withSeed(seed))
                  .testAccuracy();
          Tensor generated =
              DemoEvaluation.generate(
                  gen,
                  tok,
                  o.generatedPerClass(),
                  GenerateOptions.builder().gridPoints(o.gridPoints()).build(),
                  seed,
                  Progress.NONE);
          double fid = DemoEvaluation.domainFid(t, generated, testX);
          String row =
              String.format(
                  "| %d×%d×%d | %s | %.2f | %.2f%% | %.2f |%n",
                  width,
                  tok.latentShape()[1],
                  tok.latentShape()[2],
                  sem > 0 ? "on (weight " + sem + ")" : "off",
                  psnr,
                  100 * probe,
                  fid);
          System.out.print(row);
          table.append(row);
        }
      }
    }
    System.out.print(table);
    return 0;
  }
}
