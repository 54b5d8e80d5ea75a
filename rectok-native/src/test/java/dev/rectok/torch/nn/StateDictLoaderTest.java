package dev.rectok.torch.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.SafeTensors;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one state-dict loader: policies choose renames, recomputed keys and strictness. */
class StateDictLoaderTest {

  /** {@code a} (Linear 3->2 with bias) and {@code b} (Linear 2->1 without), in a ModuleDict. */
  private static ModuleDict<Module> net(long seed) {
    ModuleDict<Module> m = new ModuleDict<>();
    Linear a = m.put("a", new Linear(3, 2, true));
    Linear b = m.put("b", new Linear(2, 1, false));
    try (TorchGenerator g = TorchGenerator.cpu(seed)) {
      a.resetParameters(g);
      b.resetParameters(g);
    }
    return m;
  }

  private static Path write(
      Path file, Module m, Map<String, String> renames, Map<String, Tensor> extra)
      throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      Map<String, HostTensor> host = new LinkedHashMap<>();
      m.stateDict().forEach((k, v) -> host.put(renames.getOrDefault(k, k), v.toHost(arena)));
      extra.forEach((k, v) -> host.put(k, v.toHost(arena)));
      SafeTensors.write(file, host, Map.of());
    }
    return file;
  }

  @Test
  void aRoundTripLoadsEveryKeyAndReportsIt(@TempDir Path tmp) throws IOException {
    try (ModuleDict<Module> src = net(1);
        ModuleDict<Module> dst = net(2)) {
      Path f = write(tmp.resolve("w.safetensors"), src, Map.of(), Map.of());
      LoadReport r = StateDictLoader.load(dst, f, StateDictLoader.Policy.of("net"));
      assertThat(r.entry()).isEqualTo(LoadReport.SAFETENSORS);
      assertThat(r.loaded()).containsExactly("a.weight", "a.bias", "b.weight");
      assertThat(r.ignored()).isEmpty();
      assertThat(r.isClean()).isTrue();
      src.stateDict().forEach((k, v) -> assertThat(dst.stateDict().get(k).equal(v)).as(k).isTrue());
    }
  }

  @Test
  void renamesApplyAndUnknownKeysAreIgnoredUnlessStrict(@TempDir Path tmp) throws IOException {
    try (ModuleDict<Module> src = net(1);
        ModuleDict<Module> dst = net(2);
        Tensor extra = Tensor.zeros(4)) {
      Path f =
          write(
              tmp.resolve("w.safetensors"),
              src,
              Map.of("b.weight", "old_b.weight"),
              Map.of("extra", extra));
      StateDictLoader.Policy renaming =
          StateDictLoader.Policy.of("net")
              .withRename(k -> k.startsWith("old_") ? k.substring(4) : k);
      assertThatThrownBy(() -> StateDictLoader.load(dst, f, renaming.strict()))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("unexpected keys: [extra]")
          .hasMessageContaining("nothing was loaded");
      assertThat(dst.stateDict().get("a.weight").equal(src.stateDict().get("a.weight"))).isFalse();
      LoadReport r = StateDictLoader.load(dst, f, renaming);
      assertThat(r.renamed()).isEqualTo(1);
      assertThat(r.ignored()).containsExactly("extra");
      assertThat(dst.stateDict().get("b.weight").equal(src.stateDict().get("b.weight"))).isTrue();
    }
  }

  @Test
  void missingOrMisShapedKeysFailBeforeAnythingIsCopied(@TempDir Path tmp) throws IOException {
    try (ModuleDict<Module> src = net(1);
        ModuleDict<Module> dst = net(2);
        Tensor wide = Tensor.zeros(2, 4)) {
      Path missing =
          write(tmp.resolve("m.safetensors"), src, Map.of("b.weight", "c.weight"), Map.of());
      assertThatThrownBy(() -> StateDictLoader.load(dst, missing, StateDictLoader.Policy.of("net")))
          .hasMessageContaining("does not fit net")
          .hasMessageContaining("missing keys: [b.weight]");
      ModuleDict<Module> other = new ModuleDict<>();
      other.put("a", new Linear(4, 2, true));
      other.put("b", new Linear(2, 1, false));
      Path misShaped = write(tmp.resolve("s.safetensors"), other, Map.of(), Map.of());
      other.close();
      assertThatThrownBy(
              () -> StateDictLoader.load(dst, misShaped, StateDictLoader.Policy.of("net")))
          .hasMessageContaining("mis-shaped keys: [a.weight (file [2, 4], model [2, 3])]");
      assertThat(dst.stateDict().get("a.bias").equal(src.stateDict().get("a.bias"))).isFalse();
    }
  }

  @Test
  void anOptionalKeyTheFileLacksIsReportedMissing(@TempDir Path tmp) throws IOException {
    try (ModuleDict<Module> src = net(1);
        ModuleDict<Module> dst = net(2)) {
      Path f = write(tmp.resolve("w.safetensors"), src, Map.of("b.weight", "c.weight"), Map.of());
      LoadReport r =
          StateDictLoader.load(
              dst, f, StateDictLoader.Policy.of("net").withRequired(k -> !k.startsWith("b.")));
      assertThat(r.missing()).containsExactly("b.weight");
      assertThat(r.ignored()).containsExactly("c.weight");
      assertThat(r.isClean()).isFalse();
    }
  }

  @Test
  void recomputedKeysAreNeitherRequiredNorLoaded(@TempDir Path tmp) throws IOException {
    try (ModuleDict<Module> src = net(1);
        ModuleDict<Module> dst = net(2)) {
      Tensor before = dst.stateDict().get("b.weight").clone();
      Path f = write(tmp.resolve("w.safetensors"), src, Map.of(), Map.of());
      LoadReport r =
          StateDictLoader.load(
              dst, f, StateDictLoader.Policy.of("net").withRecomputed(List.of("b.weight")));
      assertThat(r.recomputed()).containsExactly("b.weight");
      assertThat(r.loaded()).containsExactly("a.weight", "a.bias");
      assertThat(r.missing()).as("recomputed is not missing").isEmpty();
      assertThat(dst.stateDict().get("b.weight").equal(before)).isTrue();
      before.close();
    }
  }
}
