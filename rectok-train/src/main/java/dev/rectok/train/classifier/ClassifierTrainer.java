package dev.rectok.train.classifier;

import dev.rectok.api.Progress;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.Torch;
import dev.rectok.train.loop.ParamGroups;
import dev.rectok.train.loop.RandpermBatches;
import dev.rectok.train.loop.TrainLoop;
import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * Trains an {@link MlpClassifier} with AdamW on in-memory images and labels and reports test
 * accuracy: the SDK's smallest end-to-end check that data, autograd and the optimizer work. The
 * steps run on {@link TrainLoop} in memory, with batches in {@link RandpermBatches}' order.
 * Stateless; each {@link #run} is independent and single-threaded.
 */
public final class ClassifierTrainer {
  private ClassifierTrainer() {}

  /**
   * Settings; {@link #DEFAULTS} are the MLP check's.
   *
   * @param hidden hidden width
   * @param epochs passes over the training set
   * @param batchSize samples per step
   * @param lr AdamW learning rate
   * @param weightDecay AdamW weight decay (on the parameters {@link ParamGroups} does not exempt)
   * @param clipNorm global gradient-norm clip (0: none)
   * @param seed seeds initialisation and shuffling
   */
  public record Config(
      int hidden,
      int epochs,
      int batchSize,
      double lr,
      double weightDecay,
      double clipNorm,
      long seed) {
    /** Checks the values (the message lists them: {@code this} is not assigned yet here). */
    public Config {
      if (hidden <= 0
          || epochs <= 0
          || batchSize <= 0
          || !(lr > 0)
          || weightDecay < 0
          || clipNorm < 0) {
        throw new IllegalArgumentException(
            String.format(
                "invalid classifier config: hidden %d, epochs %d, batch size %d (each > 0), lr %s"
                    + " (> 0), weight decay %s, clip norm %s (each >= 0)",
                hidden, epochs, batchSize, lr, weightDecay, clipNorm));
      }
    }

    /** The MLP check's settings: hidden 256, 2 epochs of batch 128, lr 1e-3, decay 0.01, clip 1. */
    public static final Config DEFAULTS = new Config(256, 2, 128, 1e-3, 0.01, 1.0, 0);
  }

  /**
   * Outcome of a run.
   *
   * @param epochLoss mean training loss of each epoch
   * @param testAccuracy fraction of test samples classified correctly
   * @param steps optimizer steps taken
   */
  public record Result(List<Double> epochLoss, double testAccuracy, long steps) {}

  /**
   * Trains on ({@code trainX} (N, ...), {@code trainY} int64 (N)) and evaluates on the test pair.
   * The caller keeps ownership of the input tensors.
   */
  public static Result run(
      Config cfg,
      Tensor trainX,
      Tensor trainY,
      Tensor testX,
      Tensor testY,
      long classes,
      Progress progress) {
    Objects.requireNonNull(progress, "progress");
    long n = trainX.size(0);
    long features = trainX.numel() / n;
    Torch.manualSeed(cfg.seed());
    try (MlpClassifier model = new MlpClassifier(features, cfg.hidden(), classes);
        RandpermBatches data =
            new RandpermBatches(trainX, trainY, cfg.batchSize(), cfg.seed(), false);
        ClassifierTask task =
            new ClassifierTask(
                model,
                model::forward,
                cfg.lr(),
                cfg.weightDecay(),
                cfg.clipNorm(),
                null,
                data.batchesPerEpoch())) {
      TrainLoop.Outcome o =
          TrainLoop.run(data, task, TrainLoop.Limits.epochs(cfg.epochs()), progress);
      return new Result(task.epochLosses(), accuracy(model, testX, testY), o.steps());
    }
  }

  /** Fraction of {@code x} classified as {@code y}, evaluated in batches under inference mode. */
  public static double accuracy(MlpClassifier model, Tensor x, Tensor y) {
    return accuracy(model::forward, x, y);
  }

  /**
   * Fraction of {@code x} (N, ...) classified as {@code y} (N) by {@code logits} (a batch of {@code
   * x} to (B, classes)), evaluated in batches of 1024 under inference mode. Tensors made by {@code
   * logits} may be left to the current scope (one per batch); the caller keeps {@code x} and {@code
   * y}.
   */
  public static double accuracy(UnaryOperator<Tensor> logits, Tensor x, Tensor y) {
    long n = x.size(0);
    long correct = 0;
    try (GradMode g = GradMode.inferenceMode()) {
      for (long b = 0; b < n; b += 1024) {
        try (Scope s = Scope.open()) {
          long len = Math.min(1024, n - b);
          Tensor pred = logits.apply(x.narrow(0, b, len)).argmax(1, false);
          correct += pred.eq(y.narrow(0, b, len)).sum().itemLong();
        }
      }
    }
    return (double) correct / n;
  }
}
