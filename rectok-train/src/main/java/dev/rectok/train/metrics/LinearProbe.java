package dev.rectok.train.metrics;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.F;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.Linear;
import dev.rectok.torch.optim.AdamW;
import dev.rectok.torch.optim.ParamGroup;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Linear-probe accuracy: how linearly separable the classes are in a feature space. One {@link
 * Linear} layer {@code logits = x̂ W ᵀ + b} is trained on the train split with softmax
 * cross-entropy and {@link AdamW} (weight decay on {@code W} only), then scored on the test split.
 *
 * <p>Features are standardised with the <b>train</b> statistics first, {@code x̂ = (x − μ_train) /
 * max(σ_train, 1e-6)} (population σ per dimension; the floor keeps constant dimensions, e.g.
 * always-black border pixels, at 0), and the same transform is applied to the test split, so no
 * test information leaks into training and the optimiser sees well-conditioned inputs whatever the
 * feature scale.
 *
 * <p>Deterministic for a given {@link Config#seed()} on CPU: the seed drives the weight
 * initialisation and the mini-batch order. Runs on the features' device, with gradients enabled
 * whatever the caller's {@link GradMode} (features extracted under inference mode are fine).
 * Stateless and thread-safe (each call builds its own model); the caller keeps ownership of all
 * tensors passed.
 */
public final class LinearProbe {
  private LinearProbe() {}

  /**
   * Training settings.
   *
   * @param epochs passes over the train split
   * @param batchSize samples per optimiser step; 0 means full batch (one step per epoch)
   * @param lr AdamW learning rate
   * @param weightDecay AdamW decoupled weight decay on the weight matrix
   * @param seed initialisation and shuffling seed
   */
  public record Config(int epochs, int batchSize, double lr, double weightDecay, long seed) {
    public Config {
      if (epochs < 1 || batchSize < 0 || !(lr > 0) || !(weightDecay >= 0)) {
        throw new IllegalArgumentException("invalid linear-probe config: " + this);
      }
    }

    /** 30 epochs of mini-batches of 256, lr 1e-2, weight decay 1e-4, seed 0. */
    public static Config defaults() {
      return new Config(30, 256, 1e-2, 1e-4, 0);
    }

    public Config withEpochs(int e) {
      return new Config(e, batchSize, lr, weightDecay, seed);
    }

    public Config withSeed(long s) {
      return new Config(epochs, batchSize, lr, weightDecay, s);
    }
  }

  /**
   * Outcome of a probe.
   *
   * @param testAccuracy fraction of the test split classified correctly
   * @param trainAccuracy fraction of the train split classified correctly after training
   * @param epochs epochs trained
   * @param finalLoss mean training loss of the last epoch
   */
  public record Result(double testAccuracy, double trainAccuracy, int epochs, double finalLoss) {}

  /**
   * Trains on ({@code trainX} (N, D) floating, {@code trainY} int64 (N)) and scores on ({@code
   * testX} (M, D), {@code testY} int64 (M)). Labels must lie in {@code [0, C)} where {@code C} is
   * one more than the largest label in either split.
   */
  public static Result fit(Tensor trainX, Tensor trainY, Tensor testX, Tensor testY, Config cfg) {
    Objects.requireNonNull(cfg, "cfg");
    checkSplit("train", trainX, trainY);
    checkSplit("test", testX, testY);
    if (trainX.size(1) != testX.size(1)) {
      throw new IllegalArgumentException(
          "train and test feature dimensions differ: " + trainX.size(1) + " vs " + testX.size(1));
    }
    if (!trainX.device().equals(testX.device())) {
      throw new IllegalArgumentException(
          "train and test splits are on different devices: "
              + trainX.device()
              + " vs "
              + testX.device());
    }
    if (trainX.size(0) < 2) {
      throw new IllegalArgumentException("need at least 2 training samples");
    }
    long n = trainX.size(0);
    long dim = trainX.size(1);
    long classes = Math.max(maxLabel(trainY), maxLabel(testY)) + 1;
    long batch = cfg.batchSize() == 0 ? n : Math.min(cfg.batchSize(), n);
    long perEpoch = (n + batch - 1) / batch;
    Device device = trainX.device();
    // grad mode explicitly on: callers often hold features made (and a guard opened) under
    // inference mode
    try (GradMode grad = GradMode.enableGrad();
        Scope outer = Scope.open();
        TorchGenerator gen = TorchGenerator.cpu(cfg.seed());
        Linear model = new Linear(dim, classes, true)) {
      model.resetParameters(gen);
      if (!device.equals(Device.CPU)) {
        model.to(null, device);
      }
      Tensor mu = trainX.to(DType.FLOAT32).mean(new long[] {0}, true);
      Tensor sigma =
          trainX.to(DType.FLOAT32).var(new long[] {0}, 0, true).sqrt().clamp(1e-6, Float.MAX_VALUE);
      Tensor xTrain = trainX.to(DType.FLOAT32).sub(mu).div(sigma);
      Tensor xTest = testX.to(DType.FLOAT32).sub(mu).div(sigma);
      double lastLoss = Double.NaN;
      try (AdamW opt = new AdamW(groups(model, cfg))) {
        for (int epoch = 0; epoch < cfg.epochs(); epoch++) {
          double sum = 0;
          try (Scope e = Scope.open()) {
            Tensor order = Tensor.randperm(n, gen, Device.CPU).to(device);
            for (long b = 0; b < perEpoch; b++) {
              try (Scope step = Scope.open()) {
                Tensor idx = order.narrow(0, b * batch, Math.min(batch, n - b * batch));
                sum += step(model, opt, xTrain.indexSelect(0, idx), trainY.indexSelect(0, idx));
              }
            }
          }
          lastLoss = sum / perEpoch;
        }
      }
      return new Result(
          accuracy(model, xTest, testY), accuracy(model, xTrain, trainY), cfg.epochs(), lastLoss);
    }
  }

  /**
   * The same probe over feature caches on disk ({@link FeatureShards}), with memory bounded by one
   * shard plus the model: the standardisation statistics come from a streaming float64 pass over
   * the train shards (per-shard mean and squared deviations merged with Chan et al.'s update;
   * population σ floored at 1e-6, as {@link #fit(Tensor, Tensor, Tensor, Tensor, Config)}); each
   * epoch visits the shards in a seeded random order and each shard's rows in a seeded random
   * order, in mini-batches of {@code batchSize} that do not cross shards (0 = one step per shard);
   * accuracies are counted shard by shard. Deterministic for a seed on CPU. With one shard holding
   * everything, the training order equals the in-memory probe's except for the extra shard-order
   * draw, so the two are close but not bit-identical. Tensors are created on the CPU.
   *
   * @throws IOException when a shard cannot be read or does not match its manifest
   */
  public static Result fit(FeatureShards train, FeatureShards test, Config cfg) throws IOException {
    Objects.requireNonNull(cfg, "cfg");
    if (train.dim() != test.dim()) {
      throw new IllegalArgumentException(
          "train and test feature dimensions differ: " + train.dim() + " vs " + test.dim());
    }
    if (train.count() < 2) {
      throw new IllegalArgumentException("need at least 2 training samples");
    }
    int dim = Math.toIntExact(train.dim());
    Moments mom = moments(train);
    long maxLabel = mom.maxLabel();
    for (int i = 0; i < test.shards(); i++) {
      for (long y : test.labels(i)) {
        maxLabel = Math.max(maxLabel, y);
      }
    }
    float[] muF = new float[dim];
    float[] sigmaF = new float[dim];
    for (int d = 0; d < dim; d++) {
      muF[d] = (float) mom.mean()[d];
      sigmaF[d] = (float) Math.max(mom.std()[d], 1e-6);
    }
    long classes = maxLabel + 1;
    try (GradMode grad = GradMode.enableGrad();
        Scope outer = Scope.open();
        TorchGenerator gen = TorchGenerator.cpu(cfg.seed());
        Linear model = new Linear(dim, classes, true)) {
      model.resetParameters(gen);
      Tensor mu = Tensor.of(muF, 1, dim);
      Tensor sigma = Tensor.of(sigmaF, 1, dim);
      double lastLoss = Double.NaN;
      try (AdamW opt = new AdamW(groups(model, cfg))) {
        for (int epoch = 0; epoch < cfg.epochs(); epoch++) {
          double sum = 0;
          long steps = 0;
          try (Scope e = Scope.open()) {
            long[] shardOrder = Tensor.randperm(train.shards(), gen, Device.CPU).toLongArray();
            for (long sh : shardOrder) {
              try (Scope shard = Scope.open()) {
                Tensor[] xy = train.read((int) sh);
                Tensor x = xy[0].sub(mu).div(sigma);
                long rows = x.size(0);
                long batch = cfg.batchSize() == 0 ? rows : Math.min(cfg.batchSize(), rows);
                Tensor order = Tensor.randperm(rows, gen, Device.CPU);
                for (long b = 0; b * batch < rows; b++) {
                  try (Scope step = Scope.open()) {
                    Tensor idx = order.narrow(0, b * batch, Math.min(batch, rows - b * batch));
                    sum += step(model, opt, x.indexSelect(0, idx), xy[1].indexSelect(0, idx));
                    steps++;
                  }
                }
              }
            }
          }
          lastLoss = sum / steps;
        }
      }
      return new Result(
          accuracy(model, test, mu, sigma),
          accuracy(model, train, mu, sigma),
          cfg.epochs(),
          lastLoss);
    }
  }

  /** Float64 mean, population standard deviation and largest label of a sharded set. */
  record Moments(double[] mean, double[] std, long maxLabel) {}

  // One streaming pass: per-shard mean and squared deviations in float64, merged with Chan et al.'s
  // parallel update, so the result equals the two-pass statistics of the concatenation.
  static Moments moments(FeatureShards set) throws IOException {
    int dim = Math.toIntExact(set.dim());
    long n = 0;
    double[] mean = new double[dim];
    double[] m2 = new double[dim];
    long maxLabel = 0;
    for (int i = 0; i < set.shards(); i++) {
      double[] meanB;
      double[] m2B;
      long nb;
      try (Scope s = Scope.open()) {
        Tensor[] xy = set.read(i);
        Tensor x = xy[0].to(DType.FLOAT64);
        if (x.isfinite().logicalNot().sum().itemLong() > 0) {
          throw new IllegalArgumentException("shard " + i + " has NaN or infinite features");
        }
        nb = x.size(0);
        Tensor mu = x.mean(new long[] {0}, true);
        meanB = mu.toDoubleArray();
        m2B = x.sub(mu).pow(2.0).sum(new long[] {0}, false).toDoubleArray();
        maxLabel = Math.max(maxLabel, xy[1].max().itemLong());
      }
      long total = n + nb;
      for (int d = 0; d < dim; d++) {
        double delta = meanB[d] - mean[d];
        mean[d] += delta * nb / total;
        m2[d] += m2B[d] + delta * delta * ((double) n * nb / total);
      }
      n = total;
    }
    double[] std = new double[dim];
    for (int d = 0; d < dim; d++) {
      std[d] = Math.sqrt(m2[d] / n);
    }
    return new Moments(mean, std, maxLabel);
  }

  // AdamW with weight decay on the weight only
  private static List<ParamGroup> groups(Linear model, Config cfg) {
    return List.of(
        new ParamGroup(List.of(model.weight()), cfg.lr(), cfg.weightDecay()),
        new ParamGroup(List.of(model.bias()), cfg.lr(), 0));
  }

  // One optimiser step on a mini-batch; the batch's mean cross-entropy.
  private static double step(Linear model, AdamW opt, Tensor x, Tensor y) {
    Tensor loss = F.crossEntropy(model.forward(x), y);
    model.zeroGrad();
    loss.backward();
    opt.step();
    return loss.item();
  }

  private static double accuracy(Linear model, FeatureShards set, Tensor mu, Tensor sigma)
      throws IOException {
    double correct = 0;
    for (int i = 0; i < set.shards(); i++) {
      try (Scope s = Scope.open()) {
        Tensor[] xy = set.read(i);
        correct += accuracy(model, xy[0].sub(mu).div(sigma), xy[1]) * xy[0].size(0);
      }
    }
    return correct / set.count();
  }

  private static double accuracy(Linear model, Tensor x, Tensor y) {
    return dev.rectok.train.classifier.ClassifierTrainer.accuracy(model::forward, x, y);
  }

  private static void checkSplit(String name, Tensor x, Tensor y) {
    Objects.requireNonNull(x, name + " features");
    Objects.requireNonNull(y, name + " labels");
    if (x.dim() != 2 || x.size(0) < 1 || x.size(1) < 1 || !x.dtype().isFloatingPoint()) {
      throw new IllegalArgumentException(
          name
              + " features must be floating (N, D), got "
              + x.dtype()
              + " "
              + Arrays.toString(x.shape()));
    }
    if (y.dim() != 1 || y.size(0) != x.size(0) || y.dtype() != DType.INT64) {
      throw new IllegalArgumentException(
          name
              + " labels must be int64 ("
              + x.size(0)
              + "), got "
              + y.dtype()
              + " "
              + Arrays.toString(y.shape()));
    }
    if (!y.device().equals(x.device())) {
      throw new IllegalArgumentException(
          name + " labels are on " + y.device() + " but features on " + x.device());
    }
  }

  private static long maxLabel(Tensor y) {
    try (Scope s = Scope.open()) {
      if (y.min().itemLong() < 0) {
        throw new IllegalArgumentException("labels must be >= 0");
      }
      return y.max().itemLong();
    }
  }
}
