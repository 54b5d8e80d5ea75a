package dev.rectok.train.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.models.ModelFile;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.torch.nn.Parameter;
import dev.rectok.train.loss.FeatureTeacher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VitTeacherTest {

  private static VitTeacherConfig small() {
    return VitTeacherConfig.builder()
        .imgSize(16)
        .patchSize(4)
        .width(16)
        .depth(2)
        .heads(2)
        .numClasses(5)
        .build();
  }

  @Property(tries = 12)
  void shapesFollowTheConfig(
      @ForAll @IntRange(min = 1, max = 5) int batch,
      @ForAll @IntRange(min = 1, max = 4) int grid,
      @ForAll @IntRange(min = 2, max = 4) int patch,
      @ForAll @IntRange(min = 1, max = 2) int heads,
      @ForAll @IntRange(min = 1, max = 2) int depth,
      @ForAll @IntRange(min = 1, max = 3) int channels) {
    VitTeacherConfig c =
        new VitTeacherConfig(grid * patch, patch, channels, heads * 8, depth, heads, 7);
    try (VitTeacher m = new VitTeacher(c, batch);
        Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(1)) {
      Tensor x = Tensor.randn(g, batch, channels, grid * patch, grid * patch);
      assertThat(m.logits(x).shape()).containsExactly(batch, 7);
      Tensor f = m.patchFeatures(x);
      assertThat(f.shape()).containsExactly(batch, (long) grid * grid, heads * 8L);
      Tensor pooled = m.pooledFeatures(x);
      assertThat(pooled.shape()).containsExactly(batch, heads * 8L);
      assertThat(pooled.sub(f.mean(new long[] {1}, false)).abs().max().item()).isLessThan(1e-6);
      assertThat(m.forward(x).equal(f)).isTrue();
    }
  }

  @Test
  void demoTeacherGivesAnEightByEightGridAndPyTorchNames() {
    try (VitTeacher m = new VitTeacher(VitTeacherConfig.builder().build(), 0);
        Scope s = Scope.open()) {
      assertThat(m.patchFeatures(Tensor.zeros(2, 3, 32, 32)).shape()).containsExactly(2, 64, 64);
      Map<String, Tensor> sd = m.stateDict();
      assertThat(sd)
          .containsKeys(
              "patch_embed.weight",
              "patch_embed.bias",
              "cls_token",
              "pos_embed",
              "blocks.0.attn.qkv.weight",
              "blocks.3.mlp.w12.weight",
              "norm.weight",
              "norm.bias",
              "head.weight",
              "head.bias");
      assertThat(sd).doesNotContainKey("rope");
      assertThat(sd.get("pos_embed").shape()).containsExactly(1, 65, 64);
      assertThat(sd.get("patch_embed.weight").shape()).containsExactly(64, 3, 4, 4);
    }
  }

  @Test
  void initialisationIsDeterministicFromTheSeed() {
    try (VitTeacher a = new VitTeacher(small(), 3);
        VitTeacher b = new VitTeacher(small(), 3);
        VitTeacher c = new VitTeacher(small(), 4)) {
      assertThat(equalState(a, b)).isTrue();
      assertThat(equalState(a, c)).isFalse();
      try (Scope s = Scope.open()) {
        Tensor w = a.stateDict().get("blocks.0.attn.qkv.weight");
        double std = w.pow(2.0).mean().item();
        assertThat(Math.sqrt(std)).isBetween(0.017, 0.023); // trunc-normal(0, 0.02), 768 draws
        assertThat(a.stateDict().get("head.bias").abs().sum().item()).isZero();
      }
    }
  }

  @Test
  void wrongImagesAreRejected() {
    try (VitTeacher m = new VitTeacher(small(), 0);
        Scope s = Scope.open()) {
      assertThatThrownBy(() -> m.logits(Tensor.zeros(2, 3, 32, 32)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("expects images (B, 3, 16, 16)");
      assertThatThrownBy(() -> m.patchFeatures(Tensor.zeros(2, 1, 16, 16)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("got [2, 1, 16, 16]");
    }
  }

  @Test
  void saveLoadRoundTripIsBitExact(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("t.safetensors");
    try (VitTeacher m = new VitTeacher(small(), 11);
        Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(2)) {
      m.save(file);
      try (VitTeacher back = VitTeacher.load(file)) {
        assertThat(back.config()).isEqualTo(small());
        assertThat(back.isTraining()).isFalse();
        assertThat(equalState(m, back)).isTrue();
        Tensor x = Tensor.randn(g, 3, 3, 16, 16);
        assertThat(back.patchFeatures(x).equal(m.patchFeatures(x))).isTrue();
        assertThat(back.logits(x).equal(m.logits(x))).isTrue();
      }
      try (var f = ModelFile.open(file)) {
        assertThat(ModelFile.header(f).kind()).isEqualTo("teacher");
      }
    }
  }

  @Test
  void otherFilesAreRefusedWithTheReason(@TempDir Path dir) throws IOException {
    Path gen = dir.resolve("g.safetensors");
    try (VitTeacher m = new VitTeacher(small(), 0)) {
      ModelFile.write(gen, "generator", small().toJson(), m.stateDict(), null, null);
    }
    assertThatThrownBy(() -> VitTeacher.load(gen))
        .isInstanceOf(CheckpointFormatException.class)
        .hasMessageContaining("holds a generator, not a teacher");
    Path wrong = dir.resolve("w.safetensors");
    try (VitTeacher m = new VitTeacher(small(), 0)) {
      ModelFile.write(
          wrong,
          "teacher",
          VitTeacherConfig.builder()
              .imgSize(16)
              .width(32)
              .depth(2)
              .heads(2)
              .numClasses(5)
              .build()
              .toJson(),
          m.stateDict(),
          null,
          null);
    }
    assertThatThrownBy(() -> VitTeacher.load(wrong))
        .isInstanceOf(CheckpointFormatException.class)
        .hasMessageContaining("mis-shaped keys: [cls_token");
    Files.writeString(dir.resolve("x.safetensors"), "not a file");
    assertThatThrownBy(() -> VitTeacher.load(dir.resolve("x.safetensors")))
        .isInstanceOf(IOException.class);
  }

  @Test
  void featureTeacherIsFrozenAndGivesNoGrad() {
    try (TorchGenerator g = TorchGenerator.cpu(5);
        Scope s = Scope.open()) {
      VitTeacher m = new VitTeacher(small(), 1);
      try (FeatureTeacher t = m.asFeatureTeacher()) {
        assertThat(m.isTraining()).isFalse();
        assertThat(m.parameters()).noneMatch(Parameter::requiresGrad);
        Tensor images = Tensor.randn(g, 2, 3, 16, 16).requiresGrad_(true);
        Tensor f = t.features(images, new long[] {0, 1});
        assertThat(f.shape()).containsExactly(2, 16, 16);
        assertThat(f.requiresGrad()).isFalse();
        try (GradMode gm = GradMode.noGrad()) {
          assertThat(f.equal(m.patchFeatures(images))).isTrue();
        }
        // a student distilled towards the features gets gradients; the teacher gets none
        Tensor student = Tensor.zeros(2, 16, 16).requiresGrad_(true);
        student.sub(f).pow(2.0).mean().backward();
        assertThat(student.grad()).isNotNull();
        for (Parameter p : m.parameters()) {
          assertThat(p.grad()).as("grad of a teacher parameter").isNull();
        }
        assertThat(images.grad()).isNull();
      }
    }
  }

  private static boolean equalState(VitTeacher a, VitTeacher b) {
    Map<String, Tensor> sa = a.stateDict();
    Map<String, Tensor> sb = b.stateDict();
    if (!sa.keySet().equals(sb.keySet())) {
      return false;
    }
    for (String k : sa.keySet()) {
      if (!sa.get(k).equal(sb.get(k))) {
        return false;
      }
    }
    return true;
  }
}
