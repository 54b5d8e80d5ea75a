package dev.rectok.train.classifier;

import dev.rectok.api.Progress;
import dev.rectok.torch.F;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.Torch;
import dev.rectok.torch.optim.AdamW;
import dev.rectok.torch.optim.ClipGrad;
import dev.rectok.train.loop.Batch;
import dev.rectok.train.loop.EpochLosses;
import dev.rectok.train.loop.ParamGroups;
import dev.rectok.train.loop.RandpermBatches;
import dev.rectok.train.loop.TrainLoop;
import dev.rectok.train.loop.TrainingTask;
import dev.rectok.train.run.TrainingCheckpoint;
import java.util.List;
import java.util.Map;
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
        Task task = new Task(model, cfg)) {
      TrainLoop.Outcome o =
          TrainLoop.run(data, task, TrainLoop.Limits.epochs(cfg.epochs()), progress);
      return new Result(task.losses.epochMeans(), accuracy(model, testX, testY), o.steps());
    }
  }

  /** One AdamW step of cross-entropy on a batch; owns the optimizer, borrows the model. */
  private static final class Task implements TrainingTask {
    private final MlpClassifier model;
    private final Config cfg;
    private final AdamW opt;
    private final EpochLosses losses = new EpochLosses();

    Task(MlpClassifier model, Config cfg) {
      this.model = model;
      this.cfg = cfg;
      this.opt =
          new AdamW(ParamGroups.reference(model, cfg.lr(), cfg.weightDecay()), 0.9, 0.999, 1e-8);
    }

    @Override
    public void register(TrainingCheckpoint checkpoint) {
      checkpoint.module("model", model).optimizer("optimizer", opt);
    }

    @Override
    public Map<String, Double> step(Batch batch, double epoch) {
      try (Scope step = Scope.open()) {
        Tensor loss = F.crossEntropy(model.forward(batch.images()), batch.labels());
        model.zeroGrad();
        loss.backward();
        if (cfg.clipNorm() > 0) {
          ClipGrad.clipGradNorm(model.parameters(), cfg.clipNorm());
        }
        opt.step();
        double l = loss.item();
        losses.add(batch.epoch(), l);
        return Map.of("loss", l);
      }
    }

    @Override
    public void close() {
      opt.close();
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
