package dev.rectok.train.recipe;

import dev.rectok.api.GenerateOptions;
import dev.rectok.api.Latents;
import dev.rectok.api.Progress;
import dev.rectok.image.PixelRange;
import dev.rectok.models.RecTokTokenizer;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.train.data.FashionMnist;
import dev.rectok.train.metrics.DomainFid;
import dev.rectok.train.metrics.LinearProbe;
import dev.rectok.train.metrics.Psnr;
import dev.rectok.train.teacher.VitTeacher;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo's metrics, computed by SDK code on Fashion-MNIST:
 *
 * <ul>
 *   <li>reconstruction PSNR of the tokenizer (posterior mode) on test images;
 *   <li>linear-probe accuracy on the latents: a linear classifier trained on train-split latents
 *       (posterior mode, channel-normalized, flattened), scored on test latents;
 *   <li>a domain FID between generated and real test images in the teacher's pooled feature space
 *       (Fréchet distance with an exact symmetric matrix square root), for unguided and AutoGuided
 *       sampling. It is not Inception FID and not comparable to published numbers.
 * </ul>
 *
 * <p><b>Ownership and threading.</b> Borrows the models; every tensor it makes is freed before it
 * returns. Not thread-safe (the models are used from the calling thread).
 */
public final class DemoEvaluation {
  private DemoEvaluation() {}

  /**
   * How much to evaluate.
   *
   * @param testImages test images for PSNR and as the real side of the FID
   * @param probeTrain train images whose latents train the linear probe
   * @param generatedPerClass images generated per class for each FID
   * @param gridPoints sampler grid points (steps + 1)
   * @param guidanceScale AutoGuidance weight
   * @param seed sampling seed
   */
  public record Options(
      int testImages,
      int probeTrain,
      int generatedPerClass,
      int gridPoints,
      double guidanceScale,
      long seed) {
    public Options {
      if (testImages < 10
          || probeTrain < 10
          || generatedPerClass < 1
          || gridPoints < 2
          || !(guidanceScale >= 0)) {
        throw new IllegalArgumentException(
            "invalid evaluation options "
                + testImages
                + "/"
                + probeTrain
                + "/"
                + generatedPerClass
                + "/"
                + gridPoints
                + "/"
                + guidanceScale);
      }
    }

    /** The same options with another seed. */
    public Options withSeed(long s) {
      return new Options(testImages, probeTrain, generatedPerClass, gridPoints, guidanceScale, s);
    }

    /** What {@code rectok demo} evaluates (well under a minute on 2 cores). */
    public static Options demo() {
      return new Options(2000, 5000, 100, 33, 1.5, 0);
    }

    // issue 9: rectok demo --quick, named here instead of inlined in the CLI.
    private static final int QUICK_TEST_IMAGES = 200;
    private static final int QUICK_PROBE_TRAIN = 500;
    private static final int QUICK_GENERATED_PER_CLASS = 10;
    private static final int QUICK_GRID_POINTS = 17;

    /**
     * What {@code rectok demo --quick} evaluates: a tenth of {@link #demo()}'s images and about
     * half its grid points, with the same guidance scale (a smoke run).
     */
    public static Options quick() {
      Options d = demo();
      return new Options(
          QUICK_TEST_IMAGES,
          QUICK_PROBE_TRAIN,
          QUICK_GENERATED_PER_CLASS,
          QUICK_GRID_POINTS,
          d.guidanceScale(),
          d.seed());
    }
  }

  /**
   * The measured values.
   *
   * @param psnr mean reconstruction PSNR (dB)
   * @param probeAccuracy linear-probe test accuracy on latents
   * @param pixelProbeAccuracy the same probe on raw pixels, for scale
   * @param fidUnguided domain FID of unguided samples
   * @param fidAutoGuided domain FID of AutoGuided samples (NaN without a guide)
   * @param fidRealVsReal domain FID between two halves of the real test images: the noise floor
   * @param teacherAccuracy the teacher classifier's test accuracy (whose features the FID uses)
   */
  public record Metrics(
      double psnr,
      double probeAccuracy,
      double pixelProbeAccuracy,
      double fidUnguided,
      double fidAutoGuided,
      double fidRealVsReal,
      double teacherAccuracy) {}

  /** Test images (N, 3, 32, 32) in [−1, 1]; owned by the caller. */
  public static Tensor rgb(FashionMnist split) {
    try (Scope s = Scope.open()) {
      return s.keep(
          split
              .paddedImagesTensor(FashionMnistModels.IMAGE_SIZE)
              .expand(-1, 3, -1, -1)
              .contiguous());
    }
  }

  /** Mean PSNR of the tokenizer's reconstructions (posterior mode) of {@code images} in [−1, 1]. */
  public static double psnr(RecTokTokenizer tok, Tensor images, int batch) {
    Psnr.Accumulator acc = new Psnr.Accumulator();
    for (long i = 0; i < images.size(0); i += batch) {
      try (Scope s = Scope.open()) {
        Tensor x = images.narrow(0, i, Math.min(batch, images.size(0) - i));
        Tensor rec01 = tok.decodeTensor(tok.encodeTensor(x, false, 0, false), false);
        acc.add(x, PixelRange.toSigned(rec01));
      }
    }
    return acc.mean();
  }

  /** Flattened normalized latents (posterior mode) of {@code images}; owned by the caller. */
  public static Tensor latentFeatures(RecTokTokenizer tok, Tensor images, int batch) {
    try (Scope s = Scope.open()) {
      List<Tensor> parts = new ArrayList<>();
      for (long i = 0; i < images.size(0); i += batch) {
        Tensor x = images.narrow(0, i, Math.min(batch, images.size(0) - i));
        parts.add(tok.encodeTensor(x, false, 0, tok.hasStatistics()).flatten(1, -1));
      }
      return s.keep(Tensor.cat(parts.toArray(Tensor[]::new), 0));
    }
  }

  /**
   * {@code perClass} generated images of every class, (10·perClass, 3, 32, 32) in [−1, 1],
   * class-major.
   */
  public static Tensor generate(
      dev.rectok.api.Generator gen,
      RecTokTokenizer tok,
      int perClass,
      GenerateOptions o,
      long seed,
      Progress progress) {
    int classes = FashionMnist.CLASSES.size();
    long[] labels = new long[classes * perClass];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = i / perClass;
    }
    Latents z = gen.sample(labels, seed, o, progress);
    try (Scope s = Scope.open()) {
      Tensor lat = Tensor.of(z.values(), z.shape());
      return s.keep(PixelRange.toSigned(tok.decodeTensor(lat, true)));
    }
  }

  /** Images per teacher forward in the domain FID. */
  private static final int FID_BATCH = 500;

  /**
   * Teacher-feature Fréchet distance between two image sets ({@link DomainFid} on pooled features).
   */
  public static double domainFid(VitTeacher teacher, Tensor a, Tensor b) {
    return DomainFid.distance(teacher::pooledFeatures, a, b, FID_BATCH);
  }

  /** Every metric; see the class comment. */
  public static Metrics evaluate(
      RecTokTokenizer tok,
      dev.rectok.api.Generator gen,
      boolean hasGuide,
      VitTeacher teacher,
      FashionMnist train,
      FashionMnist test,
      Options o,
      Progress progress) {
    return evaluate(
        tok, gen, hasGuide, teacher, train, test, o, dev.rectok.api.Precision.FP32, progress);
  }

  // --- issue 13: precision ---
  /**
   * Every metric, sampling in {@code precision} (the tokenizer runs in the precision it was opened
   * with; the teacher, the FID's feature extractor, always in float32).
   */
  public static Metrics evaluate(
      RecTokTokenizer tok,
      dev.rectok.api.Generator gen,
      boolean hasGuide,
      VitTeacher teacher,
      FashionMnist train,
      FashionMnist test,
      Options o,
      dev.rectok.api.Precision precision,
      Progress progress) {
    try (Scope s = Scope.open()) {
      Tensor testX = rgb(test);
      Tensor testY = test.labelsTensor();
      Tensor trainX = rgb(train);
      Tensor trainY = train.labelsTensor();
      int n = (int) Math.min(o.testImages(), testX.size(0));
      Tensor evalX = testX.narrow(0, 0, n);
      Tensor evalY = testY.narrow(0, 0, n);
      progress.start("evaluate", 4);
      double psnr = psnr(tok, evalX, 250);
      progress.update(1, String.format("PSNR %.2f dB", psnr));
      int m = (int) Math.min(o.probeTrain(), trainX.size(0));
      LinearProbe.Config probe = LinearProbe.Config.defaults().withSeed(o.seed());
      double probeAcc =
          LinearProbe.fit(
                  latentFeatures(tok, trainX.narrow(0, 0, m), 500),
                  trainY.narrow(0, 0, m),
                  latentFeatures(tok, evalX, 500),
                  evalY,
                  probe)
              .testAccuracy();
      double pixelAcc =
          LinearProbe.fit(
                  trainX.narrow(0, 0, m).narrow(1, 0, 1).flatten(1, -1),
                  trainY.narrow(0, 0, m),
                  evalX.narrow(1, 0, 1).flatten(1, -1),
                  evalY,
                  probe)
              .testAccuracy();
      progress.update(2, String.format("probe %.3f (pixels %.3f)", probeAcc, pixelAcc));
      GenerateOptions plain =
          GenerateOptions.builder().gridPoints(o.gridPoints()).precision(precision).build();
      double fidPlain =
          domainFid(
              teacher,
              generate(gen, tok, o.generatedPerClass(), plain, o.seed(), Progress.NONE),
              evalX);
      progress.update(3, String.format("FID unguided %.2f", fidPlain));
      double fidGuided = Double.NaN;
      if (hasGuide) {
        GenerateOptions guided =
            GenerateOptions.builder()
                .gridPoints(o.gridPoints())
                .guidance(GenerateOptions.GuidanceKind.AUTOGUIDANCE, o.guidanceScale())
                .precision(precision)
                .build();
        fidGuided =
            domainFid(
                teacher,
                generate(gen, tok, o.generatedPerClass(), guided, o.seed(), Progress.NONE),
                evalX);
      }
      long half = n / 2;
      double floor = domainFid(teacher, evalX.narrow(0, 0, half), evalX.narrow(0, half, half));
      double teacherAcc =
          dev.rectok.train.classifier.ClassifierTrainer.accuracy(teacher::logits, evalX, evalY);
      progress.update(4, String.format("FID AutoGuided %.2f", fidGuided));
      progress.end();
      return new Metrics(psnr, probeAcc, pixelAcc, fidPlain, fidGuided, floor, teacherAcc);
    }
  }
}
