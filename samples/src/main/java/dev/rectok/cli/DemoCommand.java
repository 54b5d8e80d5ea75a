package dev.rectok.cli;

import dev.rectok.api.GenerateOptions;
import dev.rectok.generate.DiTGenerator;
import dev.rectok.image.PixelRange;
import dev.rectok.models.RecTokTokenizer;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.train.data.FashionMnist;
import dev.rectok.train.recipe.DemoEvaluation;
import dev.rectok.train.recipe.FashionMnistRecipe;
import dev.rectok.train.teacher.VitTeacher;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rectok demo}: the main job, offline, on the models that ship in the repository (trained by
 * {@code rectok train recipe} on Fashion-MNIST): reconstructs test images, generates a labelled
 * grid of every class with AutoGuidance, writes PNGs and prints PSNR, linear-probe accuracy and
 * domain FID.
 */
@Command(
    name = "demo",
    description =
        "Reconstruct and generate Fashion-MNIST with the shipped RecTok models; write PNGs and print metrics.")
final class DemoCommand implements Callable<Integer> {
  @Option(
      names = "--models",
      description =
          "folder with teacher, tokenizer, generator and guide model files (default: the shipped ones)")
  Path models = defaultModels();

  @Option(names = "--data", description = "Fashion-MNIST folder (default: ${DEFAULT-VALUE})")
  Path data = FashionMnist.defaultDir();

  @Option(names = "--out", description = "where the PNGs go (default: ${DEFAULT-VALUE})")
  Path out = Path.of("rectok-demo");

  @Option(names = "--seed", description = "sampling seed (default: ${DEFAULT-VALUE})")
  long seed = 0;

  @Option(names = "--quick", description = "fewer images for the metrics (a smoke run)")
  boolean quick;

  // --- issue 13: precision ---
  @picocli.CommandLine.Mixin PrecisionOption precision;

  static Path defaultModels() {
    String home = System.getProperty("rectok.home");
    return (home != null ? Path.of(home) : Path.of(".")).resolve("samples/models/fashion-mnist");
  }

  @Override
  public Integer call() throws Exception {
    long t0 = System.nanoTime();
    precision.resolve(dev.rectok.api.Device.CPU); // refuses an unsupported bf16 before any work
    new DoctorCommand().call();
    System.out.println();
    for (String f :
        List.of(
            FashionMnistRecipe.TEACHER,
            FashionMnistRecipe.TOKENIZER,
            FashionMnistRecipe.GENERATOR,
            FashionMnistRecipe.GUIDE)) {
      if (!Files.isRegularFile(models.resolve(f))) {
        throw new IllegalArgumentException(
            models.resolve(f)
                + " is missing: train the models with 'rectok train recipe --out "
                + models
                + "'");
      }
    }
    DemoEvaluation.Options o =
        (quick ? DemoEvaluation.Options.quick() : DemoEvaluation.Options.demo()).withSeed(seed);
    FashionMnist train = FashionMnist.load(data, true, o.probeTrain());
    FashionMnist test = FashionMnist.load(data, false, o.testImages());
    Files.createDirectories(out);
    try (RecTokTokenizer tok =
            RecTokTokenizer.open(
                models.resolve(FashionMnistRecipe.TOKENIZER),
                dev.rectok.api.Device.CPU,
                precision.get());
        DiTGenerator gen =
            DiTGenerator.open(
                models.resolve(FashionMnistRecipe.GENERATOR),
                models.resolve(FashionMnistRecipe.GUIDE),
                dev.rectok.api.Device.CPU,
                precision.get());
        VitTeacher teacher = VitTeacher.load(models.resolve(FashionMnistRecipe.TEACHER));
        Scope s = Scope.open()) {
      System.out.printf(
          "models from %s: tokenizer %dx%d -> latents %s, generator + AutoGuidance companion%n",
          models, tok.imageSize(), tok.imageSize(), java.util.Arrays.toString(tok.latentShape()));
      // reconstructions: originals above, reconstructions below
      Tensor x = DemoEvaluation.rgb(test).narrow(0, 0, 16);
      Tensor rec = tok.decodeTensor(tok.encodeTensor(x, false, 0, false), false);
      List<BufferedImage> cells = new ArrayList<>(RecTokTokenizer.toImages(PixelRange.toUnit(x)));
      cells.addAll(RecTokTokenizer.toImages(rec));
      List<String> captions = new ArrayList<>();
      for (int i = 0; i < 32; i++) {
        captions.add(i == 0 ? "input" : i == 16 ? "reconstruction" : null);
      }
      write(
          dev.rectok.image.ImageGrid.of(cells, captions, 16, 2),
          out.resolve("reconstructions.png"));
      // one labelled row per class, AutoGuided
      int perClass = 8;
      GenerateOptions guided =
          GenerateOptions.builder()
              .gridPoints(o.gridPoints())
              .guidance(GenerateOptions.GuidanceKind.AUTOGUIDANCE, o.guidanceScale())
              .precision(precision.get())
              .build();
      Tensor samples =
          DemoEvaluation.generate(
              gen, tok, perClass, guided, seed, new ConsoleProgress(System.err));
      List<String> names = new ArrayList<>();
      for (int i = 0; i < samples.size(0); i++) {
        names.add(
            i % perClass == 0
                ? FashionMnist.CLASSES.get(i / perClass)
                : null); // the class, once per row
      }
      write(
          dev.rectok.image.ImageGrid.of(
              RecTokTokenizer.toImages(PixelRange.toUnit(samples)), names, perClass, 2),
          out.resolve("generated.png"));
      DemoEvaluation.Metrics m =
          DemoEvaluation.evaluate(
              tok,
              gen,
              true,
              teacher,
              train,
              test,
              o,
              precision.get(),
              new ConsoleProgress(System.err));
      System.out.printf(
          "precision %s (GEMMs in %s)%n",
          precision.get().cliName(), precision.resolve(dev.rectok.api.Device.CPU).torchName());
      System.out.printf(
          "reconstruction PSNR (%d test images)        %.2f dB%n", o.testImages(), m.psnr());
      System.out.printf(
          "linear probe on latents (%d train / %d test) %.2f%% (raw pixels: %.2f%%)%n",
          o.probeTrain(), o.testImages(), 100 * m.probeAccuracy(), 100 * m.pixelProbeAccuracy());
      System.out.printf(
          "domain FID, %d per class, %d steps:   unguided %.2f, AutoGuided (w=%.2f) %.2f, real-vs-real floor %.2f%n",
          o.generatedPerClass(),
          o.gridPoints() - 1,
          m.fidUnguided(),
          o.guidanceScale(),
          m.fidAutoGuided(),
          m.fidRealVsReal());
      System.out.printf(
          "teacher ViT (domain-FID features) test accuracy %.2f%%%n", 100 * m.teacherAccuracy());
      System.out.printf(
          "wrote %s and %s in %.1f s%n",
          out.resolve("reconstructions.png"),
          out.resolve("generated.png"),
          (System.nanoTime() - t0) / 1e9);
    }
    return 0;
  }

  private static void write(BufferedImage img, Path file) throws java.io.IOException {
    dev.rectok.image.ImageGrid.writePng(img, file);
  }
}
