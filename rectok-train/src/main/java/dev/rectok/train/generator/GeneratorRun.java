package dev.rectok.train.generator;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.api.Progress;
import dev.rectok.api.TrainingLimits;
import dev.rectok.api.TrainingReport;
import dev.rectok.models.RecTokTokenizer;
import dev.rectok.train.loop.TrainLoop;
import dev.rectok.train.loop.TrainingData;
import dev.rectok.train.run.RunDirectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One generator training run (the main DiT^DH or its AutoGuidance companion) in a run directory,
 * driven by {@link TrainLoop} and resumable like every run. Latents come from the frozen tokenizer,
 * either online per batch as the reference does ({@link OnlineLatents}: the encoder costs a few
 * percent of a DiT step) or from a {@link LatentCache} encoded once (posterior mean and std of both
 * orientations; each step still samples the posterior and follows the loader's flips).
 *
 * <p><b>Ownership and threading.</b> Owns the trainer, the tokenizer, the latent source, the data
 * and the run directory; {@link #close} frees them. One call at a time.
 */
public final class GeneratorRun implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(GeneratorRun.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();

  private final GeneratorTrainer trainer;
  private final RecTokTokenizer tokenizer;
  private final LatentSource latents;
  private final TrainingData data;
  private final RunDirectory run;
  private final long checkpointEvery;
  private final Device device;

  private GeneratorRun(
      GeneratorTrainer trainer,
      RecTokTokenizer tokenizer,
      LatentSource latents,
      TrainingData data,
      RunDirectory run,
      long checkpointEvery,
      Device device) {
    this.device = device;
    this.trainer = trainer;
    this.tokenizer = tokenizer;
    this.latents = latents;
    this.data = data;
    this.run = run;
    this.checkpointEvery = checkpointEvery;
  }

  /**
   * Opens (or reopens) a run.
   *
   * @param runDir the run directory
   * @param dataPath the training images (see {@link TrainingData#open})
   * @param trainImages cap on the training set, negative for all
   * @param tokenizerFile a tokenizer model file with latent statistics
   * @param config the generator training config (its {@code model} must fit the tokenizer's
   *     latents)
   * @param latentCache where the encoded training set is kept (built when missing), or null to
   *     encode online
   */
  public static GeneratorRun open(
      Path runDir,
      Path dataPath,
      int trainImages,
      Path tokenizerFile,
      GeneratorTrainingConfig config,
      Path latentCache,
      Device device,
      Progress progress)
      throws IOException {
    ObjectNode runConfig = JSON.createObjectNode();
    runConfig.put("kind", "rectok-generator-training");
    runConfig.put("data", dataPath.toAbsolutePath().toString()).put("train_images", trainImages);
    runConfig.put("tokenizer", tokenizerFile.toAbsolutePath().toString());
    runConfig.put(
        "latents", latentCache == null ? "online" : latentCache.toAbsolutePath().toString());
    runConfig.set("training", config.toJson());
    runConfig.put("device", device.toString());
    TrainingData data = TrainingData.open(dataPath, config.model().imgSize(), trainImages);
    RecTokTokenizer tok = null;
    LatentSource latents = null;
    RunDirectory run = null;
    try {
      tok = RecTokTokenizer.open(tokenizerFile, device);
      if (!tok.hasStatistics()) {
        throw new IllegalArgumentException(
            tokenizerFile + " has no latent statistics: export it with statistics");
      }
      if (latentCache == null) {
        latents = new OnlineLatents(tok.model());
      } else {
        if (!Files.exists(latentCache)) {
          progress.start("encode latents", 1);
          LOG.log(
              System.Logger.Level.INFO,
              "encoding {0} training images into {1}",
              data.size(),
              latentCache);
          TrainingData d = data;
          LatentCache.build(
              latentCache,
              tok.model(),
              data.firstIndices(data.size()),
              idx -> {
                try {
                  return d.images(idx);
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              },
              256,
              device,
              DType.FLOAT32);
          progress.end();
        }
        latents = LatentCache.open(latentCache, LatentCache.FlipRule.dataLoader(config.seed()));
      }
      run =
          RunDirectory.open(
              dev.rectok.train.distributed.DataParallel.runDirFor(runDir),
              runConfig,
              2); // issue 14
      GeneratorTrainer trainer = new GeneratorTrainer(config, latents, device);
      return new GeneratorRun(trainer, tok, latents, data, run, 500, device);
    } catch (IOException | RuntimeException e) {
      if (run != null) {
        run.close();
      }
      if (latents != null) {
        latents.close();
      }
      if (tok != null) {
        tok.close();
      }
      data.close();
      throw e;
    }
  }

  /** The trainer. */
  public GeneratorTrainer trainer() {
    return trainer;
  }

  /** Trains (or resumes) until the schedule's epochs end or a limit stops it. */
  public TrainingReport train(TrainingLimits limits, Progress progress) throws IOException {
    TrainLoop.Limits l =
        new TrainLoop.Limits(
            trainer.config().epochs(), limits.maxSteps(), limits.maxTime(), checkpointEvery, 10);
    TrainLoop.Outcome o =
        TrainLoop.run(
            run,
            data.batches(trainer.config().batchSize(), trainer.config().seed(), 2),
            trainer,
            l,
            progress);
    if (dev.rectok.train.distributed.DataParallel.isMain()) { // issue 14: rank 0 writes
      writeSamples(o.steps());
    }
    return o.toReport(run.dir());
  }

  /**
   * {@code samples/step-N.png}: one EMA sample per class (up to 16 classes), 32 Euler steps, fixed
   * seed.
   */
  private void writeSamples(long step) throws IOException {
    var m = trainer.config().model();
    int n = Math.min(16, m.numClasses());
    long[] labels = new long[n];
    for (int i = 0; i < n; i++) {
      labels[i] = i;
    }
    try (dev.rectok.torch.Scope s = dev.rectok.torch.Scope.open();
        dev.rectok.torch.GradMode g = dev.rectok.torch.GradMode.inferenceMode();
        dev.rectok.torch.TorchGenerator gen = dev.rectok.torch.TorchGenerator.cpu(0)) {
      var sampler =
          dev.rectok.generate.transport.Sampler.of(
              dev.rectok.generate.transport.Sampler.Method.EULER, 33, m.timeDistShift());
      dev.rectok.torch.Tensor noise =
          dev.rectok.generate.transport.Sampler.initialNoise(
              gen, device, n, m.tokenChannels(), m.inputSize(), m.inputSize());
      var ema = trainer.emaModel();
      dev.rectok.torch.Tensor z =
          sampler.sample(ema::forward, noise, dev.rectok.torch.Tensor.of(labels).to(device));
      var images = RecTokTokenizer.toImages(tokenizer.decodeTensor(z, true));
      dev.rectok.image.ImageGrid.writePng(
          dev.rectok.image.ImageGrid.of(images, null, n),
          run.samplesDir().resolve(String.format("step-%07d.png", step)));
    }
  }

  /** Writes the EMA generator as a model file. */
  public Path export(Path file) throws IOException {
    trainer.exportModel(file);
    return file;
  }

  @Override
  public void close() {
    trainer.close();
    latents.close();
    tokenizer.close();
    data.close();
    try {
      run.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "closing {0}: {1}", run.dir(), e.toString());
    }
  }
}
