package dev.rectok.train.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.image.PixelRange;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.Conv2d;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TeacherTest {

  @Test
  void precomputedRoundTripOverTwoShards(@TempDir Path dir) throws IOException {
    Path a = dir.resolve("shard-0.safetensors");
    Path b = dir.resolve("shard-1.safetensors");
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(7)) {
      Map<Long, Tensor> feats = new LinkedHashMap<>();
      for (long i : new long[] {0, 2, 1, 5}) {
        feats.put(i, Tensor.randn(g, 4, 6));
      }
      Map<String, Tensor> sa = new LinkedHashMap<>();
      sa.put("features.0", feats.get(0L));
      sa.put("features.2", feats.get(2L));
      sa.put("other", Tensor.zeros(1)); // ignored
      Map<String, Tensor> sb = new LinkedHashMap<>();
      sb.put("features.1", feats.get(1L));
      sb.put("features.5", feats.get(5L));
      LossTestSupport.write(a, sa, k -> k);
      LossTestSupport.write(b, sb, k -> k);
      try (PrecomputedTeacher t = new PrecomputedTeacher(List.of(a, b))) {
        assertThat(t.size()).isEqualTo(4);
        Tensor images = Tensor.zeros(3, 3, 8, 8);
        Tensor f = t.features(images, new long[] {2, 1, 5});
        assertThat(f.shape()).containsExactly(3, 4, 6);
        assertThat(f.requiresGrad()).isFalse();
        assertThat(f.select(0, 0).equal(feats.get(2L))).isTrue();
        assertThat(f.select(0, 1).equal(feats.get(1L))).isTrue();
        assertThat(f.select(0, 2).equal(feats.get(5L))).isTrue();
        assertThatThrownBy(() -> t.features(Tensor.zeros(2, 3, 8, 8), new long[] {0, 3}))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("sample 3");
      }
      assertThatThrownBy(() -> new PrecomputedTeacher(List.of(a, a)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("sample 0");
    }
  }

  @Test
  void moduleTeacherRunsFrozenUnderNoGradWithPreprocessing() {
    AtomicBoolean gradSeen = new AtomicBoolean();
    AtomicInteger calls = new AtomicInteger();
    try (Scope s = Scope.open();
        TorchGenerator g = TorchGenerator.cpu(8);
        ModuleTeacher t =
            new ModuleTeacher(
                new Conv2d(3, 5, 4, 4, 0),
                x -> {
                  calls.incrementAndGet();
                  gradSeen.set(GradMode.isGradEnabled());
                  return PixelRange.toUnit(x);
                })) {
      Tensor images = Tensor.rand(g, 2, 3, 16, 16).requiresGrad_(true);
      Tensor f = t.features(images, new long[] {0, 1});
      assertThat(calls.get()).isEqualTo(1);
      assertThat(gradSeen.get()).isFalse();
      assertThat(GradMode.isGradEnabled()).isTrue();
      assertThat(f.shape()).containsExactly(2, 16, 5);
      assertThat(f.requiresGrad()).isFalse();
      assertThat(t.model().isTraining()).isFalse();
      assertThat(t.model().numParameters(true)).isZero();
      Tensor expected;
      try (GradMode ng = GradMode.noGrad()) {
        expected = t.model().forward(PixelRange.toUnit(images)).flatten(2, 3).transpose(1, 2);
      }
      assertThat(f.sub(expected).abs().max().item()).isLessThan(1e-6);
    }
  }
}
