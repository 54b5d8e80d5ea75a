package dev.rectok.train.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.api.FlowDistillerSpec;
import dev.rectok.api.Progress;
import dev.rectok.api.TrainingLimits;
import dev.rectok.api.TrainingReport;
import dev.rectok.models.dinov3.DinoV3;
import dev.rectok.models.dinov3.DinoV3Config;
import dev.rectok.models.dinov3.DinoV3Weights;
import dev.rectok.models.tokenizer.RecTokConfig;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.train.data.FashionMnist;
import dev.rectok.train.loop.TrainingData;
import dev.rectok.train.loss.PrecomputedTeacher;
import dev.rectok.train.recipe.FashionMnistModels;
import dev.rectok.train.tokenizer.FlowDistillerRun;
import dev.rectok.train.tokenizer.TokenizerExport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DINOv3 teacher in training, end to end on Fashion-MNIST-sized data with a DINOv3-shaped
 * random teacher (the release layout: patch 16, 4 storage tokens, masked k bias, LayerScale): a
 * short stage-1 run with the teacher in-process, and the feature shards (sharded, resumed) that
 * give the same targets as the in-process teacher.
 */
class DinoV3TeacherTrainingTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DinoV3Config SHAPE = DinoV3Config.release(64, 2, 4);

  @TempDir static Path tmp;
  static Path teacherFile;

  @BeforeAll
  static void teacher() throws IOException {
    assertThat(FashionMnist.isAvailable(FashionMnist.defaultDir()))
        .as("Fashion-MNIST must be installed (bin/setup)")
        .isTrue();
    teacherFile = tmp.resolve("dinov3-shaped.safetensors");
    try (DinoV3 m = new DinoV3(SHAPE);
        TorchGenerator g = TorchGenerator.cpu(12)) {
      m.initRandom(g);
      DinoV3Weights.save(m, teacherFile);
    }
  }

  @Test
  void theFactoryChoosesTheTeacherByWhatTheFileIs() throws IOException {
    TeacherFiles.Opened t = TeacherFiles.open(teacherFile, Device.CPU);
    try (var teacher = t.teacher()) {
      assertThat(t.kind()).isEqualTo("dinov3");
      assertThat(t.width()).isEqualTo(64);
      assertThat(teacher).isInstanceOf(DinoV3Teacher.class);
    }
    Path vit = tmp.resolve("vit.safetensors");
    try (VitTeacher v =
        new VitTeacher(
            VitTeacherConfig.builder()
                .imgSize(16)
                .patchSize(4)
                .width(16)
                .depth(1)
                .heads(2)
                .numClasses(3)
                .build(),
            1)) {
      v.save(vit);
    }
    TeacherFiles.Opened demo = TeacherFiles.open(vit, Device.CPU);
    try (var teacher = demo.teacher()) {
      assertThat(demo.kind()).isEqualTo("vit");
      assertThat(demo.width()).isEqualTo(16);
    }
    assertThatThrownBy(() -> TeacherFiles.open(tmp.resolve("dinov3_vitl16.pth"), Device.CPU))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining(DinoV3Weights.OFFICIAL_FILE)
        .hasMessageContaining(DinoV3Weights.HF_REPOSITORY);
    Path empty = Files.createDirectories(tmp.resolve("no-shards"));
    assertThatThrownBy(() -> TeacherFiles.open(empty, Device.CPU))
        .hasMessageContaining("teacher-features");
  }

  @Test
  void featuresFollowTheTokenGridAndDependOnTheImage() throws IOException {
    try (DinoV3Teacher t = DinoV3Teacher.load(teacherFile, Device.CPU);
        Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(1)) {
      Tensor x = Tensor.rand(new long[] {3, 3, 32, 32}, g, DType.FLOAT32, Device.CPU).mul(2).sub(1);
      assertThat(t.features(x, null).shape())
          .containsExactly(3, 4, 64); // 32 px / 16 = 2 x 2 by default
      t.tokenGrid(4, 4);
      Tensor f = t.features(x, null);
      assertThat(f.shape()).containsExactly(3, 16, 64); // the tokenizer's 4 x 4 grid: 64 px seen
      assertThat(f.requiresGrad()).isFalse();
      assertThat(f.select(0, 0).equal(f.select(0, 1))).isFalse();
      assertThat(t.pixelValues(x).shape()).containsExactly(3, 3, 64, 64);
      t.autocast(DType.BFLOAT16);
      Tensor bf = t.features(x, null);
      assertThat(bf.dtype()).isEqualTo(DType.FLOAT32);
      double rel = bf.sub(f).pow(2).sum().sqrt().item() / f.pow(2).sum().sqrt().item();
      assertThat(rel).as("bf16 autocast stays close to fp32").isLessThan(0.05);
    }
  }

  private static FlowDistillerSpec.Builder stage1(Path run, Path teacher) {
    RecTokConfig model = FashionMnistModels.tokenizer(8, SHAPE.embedDim());
    Map<String, Object> args = new LinkedHashMap<>();
    ((Map<?, ?>)
            JSON.convertValue(
                TokenizerExport.modelFileConfig(model).get("constructor_kwargs"), Map.class))
        .forEach((k, v) -> args.put((String) k, v));
    args.put(
        "size_dict_additions",
        JSON.convertValue(
            TokenizerExport.modelFileConfig(model).get("size_dict_additions"), Map.class));
    FlowDistillerSpec.Builder spec =
        FlowDistillerSpec.builder(run, FashionMnist.defaultDir())
            .teacher(teacher)
            .device(Device.CPU);
    args.forEach(spec::model);
    return spec.training("epochs", 1)
        .training("batch_size", 16)
        .training("lr", 1e-3)
        .training("train_images", 64)
        .training("seed", 5)
        .training("discriminator_start_epoch", 1)
        .training("discriminator_ndf", 8);
  }

  @Test
  void aShortStageOneRunDistilsFromTheInProcessTeacherAndResumes() throws IOException {
    Path run = tmp.resolve("stage1");
    try (FlowDistillerRun r = FlowDistillerRun.open(stage1(run, teacherFile).build())) {
      TrainingReport rep = r.train(TrainingLimits.none().withMaxSteps(2), Progress.NONE);
      assertThat(rep.steps()).isEqualTo(2);
      assertThat(rep.lastMetrics().get("sem_cosine")).isFinite().isPositive();
      assertThat(rep.lastMetrics().get("loss")).isFinite();
    }
    try (FlowDistillerRun r = FlowDistillerRun.open(stage1(run, teacherFile).build())) {
      TrainingReport rep = r.train(TrainingLimits.none().withMaxSteps(3), Progress.NONE);
      assertThat(rep.resumedAtStep()).isEqualTo(2);
      assertThat(rep.steps()).isEqualTo(3);
    }
    assertThat(
            JSON.readTree(run.resolve("config.json").toFile())
                .get("foundation_hidden_size")
                .asInt())
        .isEqualTo(64);
  }

  @Test
  void shardsWrittenByTwoWorkersResumeAndMatchTheInProcessTeacher() throws IOException {
    Path out = tmp.resolve("features");
    try (DinoV3Teacher t = DinoV3Teacher.load(teacherFile, Device.CPU);
        TrainingData data = TrainingData.open(FashionMnist.defaultDir(), 32, 40)) {
      t.tokenGrid(4, 4);
      var w0 = new TeacherFeatureWriter.Options("t", 16, 6, 0, 2, DType.FLOAT32, -1);
      var w1 = new TeacherFeatureWriter.Options("t", 16, 6, 1, 2, DType.FLOAT32, -1);
      TeacherFeatureWriter.Report r0 = TeacherFeatureWriter.run(t, data, out, w0, Progress.NONE);
      assertThat(r0.chunksWritten()).isEqualTo(2); // chunks 0 and 2: indices 0-15 and 32-39
      assertThat(r0.imagesWritten()).isEqualTo(24);
      assertThat(r0.featureShape()).containsExactly(16, 64);
      assertThat(TeacherFeatureWriter.run(t, data, out, w1, Progress.NONE).chunksWritten())
          .isEqualTo(1);
      assertThat(shards(out))
          .containsExactly(
              TeacherFeatureWriter.fileName(0, 16),
              TeacherFeatureWriter.fileName(16, 32),
              TeacherFeatureWriter.fileName(32, 40));
      // resume: everything is there; a lost file is rewritten alone
      var all = new TeacherFeatureWriter.Options("t", 16, 6, 0, 1, DType.FLOAT32, -1);
      assertThat(TeacherFeatureWriter.run(t, data, out, all, Progress.NONE).chunksSkipped())
          .isEqualTo(3);
      Files.delete(out.resolve(TeacherFeatureWriter.fileName(16, 32)));
      TeacherFeatureWriter.Report again =
          TeacherFeatureWriter.run(t, data, out, all, Progress.NONE);
      assertThat(again.chunksWritten()).isEqualTo(1);
      assertThat(again.chunksSkipped()).isEqualTo(2);
      // other settings on the same folder are refused
      var other = new TeacherFeatureWriter.Options("t", 8, 6, 0, 1, DType.FLOAT32, -1);
      assertThatThrownBy(() -> TeacherFeatureWriter.run(t, data, out, other, Progress.NONE))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("other settings");
      // the shards hold exactly what the in-process teacher computes for the unflipped images
      List<Path> files = new ArrayList<>();
      for (String f : shards(out)) {
        files.add(out.resolve(f));
      }
      try (PrecomputedTeacher pre = new PrecomputedTeacher(files);
          Scope s = Scope.open()) {
        assertThat(pre.size()).isEqualTo(40);
        long[] idx = {0, 17, 39};
        Tensor imgs = data.images(idx);
        assertThat(pre.features(imgs, idx).equal(t.features(imgs, idx))).isTrue();
      }
    }
    assertThatThrownBy(() -> new TeacherFeatureWriter.Options("t", 16, 6, 2, 2, DType.FLOAT32, -1))
        .hasMessageContaining("0 <= i < n");
  }

  private static List<String> shards(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".safetensors"))
          .sorted()
          .toList();
    }
  }
}
