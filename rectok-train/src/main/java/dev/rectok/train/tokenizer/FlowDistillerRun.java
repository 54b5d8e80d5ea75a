package dev.rectok.train.tokenizer;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.api.FlowDistiller;
import dev.rectok.api.FlowDistillerSpec;
import dev.rectok.api.Progress;
import dev.rectok.api.TrainingLimits;
import dev.rectok.api.TrainingReport;
import dev.rectok.image.PixelRange;
import dev.rectok.models.ConfigJson;
import dev.rectok.models.ModelFile;
import dev.rectok.models.stats.LatentStatistics;
import dev.rectok.models.stats.StatisticsCollector;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.models.tokenizer.RecTokConfig;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.io.SafeTensorsFile;
import dev.rectok.torch.nn.LoadReport;
import dev.rectok.torch.nn.Module;
import dev.rectok.train.loop.TrainLoop;
import dev.rectok.train.loop.TrainingData;
import dev.rectok.train.loss.ConvNeXtLogitLoss;
import dev.rectok.train.loss.FeatureTeacher;
import dev.rectok.train.loss.LPIPS;
import dev.rectok.train.loss.PerceptualLoss;
import dev.rectok.train.run.CheckpointStore;
import dev.rectok.train.run.RunDirectory;
import dev.rectok.train.teacher.DinoV3Teacher;
import dev.rectok.train.teacher.TeacherFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The LibTorch implementation of the API's {@link FlowDistiller}: resolves a {@link
 * FlowDistillerSpec} (reference config names) into a {@link TokenizerTrainer}, its data, teacher
 * and run directory, and drives it with {@link TrainLoop}.
 *
 * <p>Spec keys besides the reference's: in {@code model}, {@code preset} (the base config, default
 * {@code rectok_BB_stage1}), {@code size_dict_additions} and {@code foundation_hidden_size}
 * (default: the teacher's width); in {@code training}, {@code train_images} (cap on the training
 * set), {@code workers}, {@code checkpoint_every}, {@code log_every}, {@code autocast} ({@code
 * "bf16"}: forward passes under bf16 autocast, as the reference trains on CUDA; {@code "fp16"} on
 * CUDA; default none), and the perceptual loss's weight files {@code lpips_vgg_weights} + {@code
 * lpips_lin_weights} (torchvision VGG16 and the LPIPS heads) and {@code convnext_weights}
 * (torchvision convnext_small) — each term is off without its files, and the log says so once.
 *
 * <p><b>Ownership and threading.</b> Owns the trainer, the teacher it loaded, the data and the run
 * directory; {@link #close} frees them. One call at a time.
 */
public final class FlowDistillerRun implements FlowDistiller {
  private static final System.Logger LOG = System.getLogger(FlowDistillerRun.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> LOOP_KEYS =
      List.of(
          "train_images",
          "workers",
          "checkpoint_every",
          "log_every",
          "autocast",
          "lpips_vgg_weights",
          "lpips_lin_weights",
          "convnext_weights");

  /**
   * The settings of a run that are not the reference's training config: the data cap, loader
   * workers, intervals, autocast and the perceptual networks' weight files. Read with the same
   * mapping as the configs ({@link ConfigJson}); immutable and thread-safe.
   *
   * @param trainImages {@code train_images}: cap on the training set, -1 for all
   * @param workers {@code workers}: image decoding threads
   * @param checkpointEvery {@code checkpoint_every}: steps between checkpoints
   * @param logEvery {@code log_every}: steps between metrics lines
   * @param autocast {@code autocast}: none, bf16 or fp16
   * @param lpipsVggWeights {@code lpips_vgg_weights}: LPIPS VGG weights file, empty for none
   * @param lpipsLinWeights {@code lpips_lin_weights}: LPIPS linear-head weights, empty for none
   * @param convnextWeights {@code convnext_weights}: ConvNeXt weights file, empty for none
   */
  public record LoopSettings(
      @JsonProperty("train_images") int trainImages,
      @JsonProperty("workers") int workers,
      @JsonProperty("checkpoint_every") long checkpointEvery,
      @JsonProperty("log_every") long logEvery,
      @JsonProperty("autocast") String autocast,
      @JsonProperty("lpips_vgg_weights") String lpipsVggWeights,
      @JsonProperty("lpips_lin_weights") String lpipsLinWeights,
      @JsonProperty("convnext_weights") String convnextWeights) {
    /** The defaults: all images, 2 workers, checkpoints every 500 steps, metrics every 10. */
    public static final LoopSettings DEFAULTS =
        new LoopSettings(-1, 2, 500, 10, "none", "", "", "");
  }

  private final TokenizerTrainer trainer;
  private final FeatureTeacher teacher;
  private final PerceptualLoss perceptual;
  private final TrainingData data;
  private final RunDirectory run;
  private final int workers;
  private final long checkpointEvery;
  private final long logEvery;
  private boolean closed;

  private FlowDistillerRun(
      TokenizerTrainer trainer,
      FeatureTeacher teacher,
      PerceptualLoss perceptual,
      TrainingData data,
      RunDirectory run,
      int workers,
      long checkpointEvery,
      long logEvery) {
    this.trainer = trainer;
    this.teacher = teacher;
    this.perceptual = perceptual;
    this.data = data;
    this.run = run;
    this.workers = workers;
    this.checkpointEvery = checkpointEvery;
    this.logEvery = logEvery;
  }

  /** Resolves {@code spec} and opens (or reopens) its run directory. */
  public static FlowDistillerRun open(FlowDistillerSpec spec) throws IOException {
    ObjectNode training = JSON.valueToTree(spec.training());
    ObjectNode loopJson = JSON.createObjectNode();
    for (String k : LOOP_KEYS) {
      JsonNode v = training.remove(k);
      if (v != null) {
        loopJson.set(k, v);
      }
    }
    LoopSettings loop = ConfigJson.read(loopJson, LoopSettings.class, LoopSettings.DEFAULTS, "");
    int limit = loop.trainImages();
    int workers = loop.workers();
    long checkpointEvery = loop.checkpointEvery();
    long logEvery = loop.logEvery();
    String vgg = loop.lpipsVggWeights();
    String lin = loop.lpipsLinWeights();
    String convnext = loop.convnextWeights();
    if (vgg.isEmpty() != lin.isEmpty()) {
      throw new IllegalArgumentException(
          "LPIPS needs both lpips_vgg_weights and lpips_lin_weights");
    }
    dev.rectok.api.DType mixed = dev.rectok.torch.Autocast.parse(loop.autocast());
    if (mixed != null) {
      dev.rectok.torch.Autocast.enable(spec.device(), mixed)
          .close(); // an unsupported pairing fails before any work
    }
    // Settings overlay the stage's defaults with their absolute lr, so a batch_size alone does not
    // rescale it; a blr given replaces that lr (lr = blr · batch_size / 256).
    ObjectNode cfgJson =
        (spec.stage() == 1 ? TokenizerTrainingConfig.builder() : TokenizerTrainingConfig.stage2())
            .build()
            .toJson();
    if (training.get("blr") != null) {
      cfgJson.remove("lr");
    }
    cfgJson.setAll(training);
    TokenizerTrainingConfig cfg = TokenizerTrainingConfig.fromJson(cfgJson);

    List<AutoCloseable> opened = new ArrayList<>();
    try {
      FeatureTeacher teacher = null;
      int teacherWidth = 0;
      if (spec.stage() == 1) {
        // issue 12: the teacher by what the file is (shards, DINOv3 in either layout, the demo's
        // ViT)
        TeacherFiles.Opened t = TeacherFiles.open(spec.teacher(), spec.device());
        teacher = t.teacher();
        teacherWidth = t.width();
        opened.add(teacher);
      }
      RecTokConfig modelConfig =
          spec.stage() == 1 ? stage1Config(spec.model(), teacherWidth) : null;
      if (teacher instanceof DinoV3Teacher dino) {
        // one teacher feature per tokenizer token, whatever the image size (256 -> 16x16 as the
        // reference)
        dino.tokenGrid(modelConfig.gridSize(), modelConfig.gridSize());
      }
      Module[] init = null;
      if (spec.stage() == 2) {
        init = loadStage1(spec.initFrom());
        opened.add(init[0]);
        opened.add(init[1]);
        modelConfig = ((RecTok) init[0]).config();
      }
      TrainingData data = TrainingData.open(spec.data(), modelConfig.imgSize(), limit);
      opened.add(data);
      if (data.size() < cfg.batchSize()) {
        throw new IllegalArgumentException(
            "batch_size "
                + cfg.batchSize()
                + " exceeds the "
                + data.size()
                + " training images of "
                + spec.data());
      }
      ObjectNode runConfig = JSON.createObjectNode();
      runConfig.put("kind", "rectok-tokenizer-training").put("stage", spec.stage());
      runConfig.put("data", spec.data().toAbsolutePath().toString()).put("train_images", limit);
      runConfig.put(
          "teacher", spec.teacher() == null ? "" : spec.teacher().toAbsolutePath().toString());
      runConfig.put(
          "init_from", spec.initFrom() == null ? "" : spec.initFrom().toAbsolutePath().toString());
      runConfig.set("model", TokenizerExport.modelFileConfig(modelConfig));
      runConfig.put("foundation_hidden_size", modelConfig.foundationHiddenSize());
      runConfig.set("training", cfg.toJson());
      runConfig.put("device", spec.device().toString());
      runConfig.put(
          "perceptual", (vgg.isEmpty() ? "" : "lpips ") + (convnext.isEmpty() ? "" : "convnext"));
      RunDirectory run =
          RunDirectory.open(
              dev.rectok.train.distributed.DataParallel.runDirFor(spec.runDirectory()),
              runConfig,
              2); // issue 14: rank 0 writes the run
      opened.add(run);
      PerceptualLoss perceptual =
          new PerceptualLoss(
              vgg.isEmpty() ? null : new LPIPS().load(Path.of(vgg), Path.of(lin)),
              convnext.isEmpty() ? null : ConvNeXtLogitLoss.convnextSmall(Path.of(convnext)),
              1.0,
              0.1);
      opened.add(perceptual);
      perceptual.to(null, spec.device());
      TokenizerTrainer trainer =
          spec.stage() == 1
              ? TokenizerTrainer.stage1(cfg, modelConfig, teacher, perceptual, spec.device())
              : TokenizerTrainer.decoderFineTuning(
                  cfg, modelConfig, init[0], init[1], perceptual, spec.device());
      if (init != null) {
        init[0].close();
        init[1].close();
        opened.remove(init[0]);
        opened.remove(init[1]);
      }
      trainer.mixedPrecision(mixed);
      LOG.log(
          System.Logger.Level.INFO,
          "tokenizer stage {0} in {1}: {2} on {3}",
          spec.stage(),
          run.dir(),
          data.description(),
          spec.device());
      return new FlowDistillerRun(
          trainer, teacher, perceptual, data, run, workers, checkpointEvery, logEvery);
    } catch (IOException | RuntimeException e) {
      for (int i = opened.size() - 1; i >= 0; i--) {
        try {
          opened.get(i).close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  /** The stage-1 model config: a preset overlaid with reference-named constructor arguments. */
  static RecTokConfig stage1Config(Map<String, Object> model, int teacherWidth) {
    ObjectNode m = JSON.valueToTree(model);
    String preset = m.path("preset").asText("rectok_BB_stage1");
    m.remove("preset");
    ObjectNode root = (ObjectNode) TokenizerExport.modelFileConfig(RecTokConfig.preset(preset));
    JsonNode sizes = m.remove("size_dict_additions");
    if (sizes != null) {
      ((ObjectNode) root.get("size_dict_additions")).setAll((ObjectNode) sizes);
    }
    JsonNode hidden = m.remove("foundation_hidden_size");
    ((ObjectNode) root.get("constructor_kwargs")).setAll(m);
    int width = hidden != null ? hidden.asInt() : teacherWidth;
    if (width > 0) {
      root.putObject("teacher_stand_in").put("hidden_size", width);
    }
    RecTokConfig c = RecTokConfig.fromGoldenConfig(root);
    if (!c.hasSemanticDecoder()) {
      throw new IllegalArgumentException(
          "stage 1 needs a semantic decoder: set foundation_model_type");
    }
    if (teacherWidth > 0 && c.foundationHiddenSize() != teacherWidth) {
      throw new IllegalArgumentException(
          "the semantic decoder predicts "
              + c.foundationHiddenSize()
              + " features but the teacher gives "
              + teacherWidth);
    }
    return c;
  }

  /**
   * The stage-1 tokenizer and its EMA from a stage-1 run directory (its latest checkpoint) or a
   * tokenizer model file (used for both).
   */
  static Module[] loadStage1(Path from) throws IOException {
    if (Files.isDirectory(from)) {
      JsonNode cfg = JSON.readTree(from.resolve(RunDirectory.CONFIG).toFile());
      JsonNode model = cfg.path("model").deepCopy();
      if (cfg.path("foundation_hidden_size").asInt() > 0) {
        ((ObjectNode) model)
            .putObject("teacher_stand_in")
            .put("hidden_size", cfg.path("foundation_hidden_size").asInt());
      }
      RecTokConfig c = RecTokConfig.fromGoldenConfig(model);
      Path ckpt =
          new CheckpointStore(from.resolve("checkpoints"), 2)
              .latest()
              .orElseThrow(() -> new IOException(from + ": the stage-1 run has no checkpoint yet"));
      RecTok live = new RecTok(c);
      RecTok ema = new RecTok(c);
      try (SafeTensorsFile f = SafeTensors.open(ckpt)) {
        load(live, f, "module/tokenizer/");
        load(ema, f, "module/tokenizer_ema/");
      } catch (IOException | RuntimeException e) {
        live.close();
        ema.close();
        throw e;
      }
      return new Module[] {live, ema};
    }
    try (SafeTensorsFile f = ModelFile.open(from)) {
      RecTokConfig c = ModelFile.header(f).tokenizerConfig();
      RecTok live = new RecTok(c);
      RecTok ema = new RecTok(c);
      load(live, f, "");
      load(ema, f, "");
      return new Module[] {live, ema};
    }
  }

  private static void load(RecTok model, SafeTensorsFile f, String prefix)
      throws CheckpointFormatException {
    Map<String, HostTensor> state = new LinkedHashMap<>();
    for (String name : f.names()) {
      if (name.startsWith(prefix)) {
        state.put(name.substring(prefix.length()), f.get(name));
      }
    }
    LoadReport r;
    try (GradMode g = GradMode.noGrad()) {
      r = model.loadHostStateDict(state, false);
    }
    if (!r.missing().isEmpty()) {
      throw new CheckpointFormatException(
          f.path() + ": stage-1 weights do not fit the tokenizer, missing keys " + r.missing());
    }
  }

  /** The trainer (for callers that need the models, e.g. to evaluate between calls). */
  public TokenizerTrainer trainer() {
    return trainer;
  }

  /** The training data. */
  public TrainingData data() {
    return data;
  }

  @Override
  public TrainingReport train(TrainingLimits limits, Progress progress) throws IOException {
    TrainLoop.Limits l =
        new TrainLoop.Limits(
            trainer.config().epochs(),
            limits.maxSteps(),
            limits.maxTime(),
            checkpointEvery,
            logEvery);
    TrainLoop.Outcome o =
        TrainLoop.run(
            run,
            data.batches(trainer.config().batchSize(), trainer.config().seed(), workers),
            trainer,
            l,
            progress);
    if (dev.rectok.train.distributed.DataParallel.isMain()) { // issue 14: rank 0 writes
      writeSamples(o.steps());
    }
    return o.toReport(run.dir());
  }

  /**
   * {@code samples/step-N.png}: 8 training images (top) and the EMA tokenizer's reconstructions
   * (bottom).
   */
  private void writeSamples(long step) throws IOException {
    try (Scope s = Scope.open();
        GradMode g = GradMode.inferenceMode()) {
      Tensor x = data.images(data.firstIndices(8));
      RecTok ema = trainer.emaModel();
      Tensor rec;
      try (RecTok.Encoding e = ema.encode(x, false, null)) {
        rec = PixelRange.toUnitClamped(ema.decoder(e.zLatents()));
      }
      java.util.List<java.awt.image.BufferedImage> cells =
          new ArrayList<>(dev.rectok.models.RecTokTokenizer.toImages(PixelRange.toUnit(x)));
      cells.addAll(dev.rectok.models.RecTokTokenizer.toImages(rec));
      dev.rectok.image.ImageGrid.writePng(
          dev.rectok.image.ImageGrid.of(cells, null, (int) x.size(0)),
          run.samplesDir().resolve(String.format("step-%07d.png", step)));
    }
  }

  @Override
  public Path export(Path modelFile, int statisticsImages, Progress progress) throws IOException {
    float[] mean = null;
    float[] std = null;
    if (statisticsImages > 0) {
      LatentStatistics s = latentStatistics(trainer.emaModel(), data, statisticsImages, progress);
      mean = s.mean();
      std = s.std();
    }
    trainer.exportModel(modelFile, mean, std);
    return modelFile;
  }

  /** Latent statistics of {@code model} over the first {@code n} (unflipped) training images. */
  public static LatentStatistics latentStatistics(
      RecTok model, TrainingData data, int n, Progress progress) throws IOException {
    long[] idx = data.firstIndices(n);
    progress.start("latent statistics", 1);
    try (Scope s = Scope.open()) {
      return StatisticsCollector.ofImages(model, data.images(idx), 256);
    } finally {
      progress.end();
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    trainer.close();
    perceptual.close();
    if (teacher != null) {
      teacher.close();
    }
    data.close();
    try {
      run.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "closing {0}: {1}", run.dir(), e.toString());
    }
  }
}
