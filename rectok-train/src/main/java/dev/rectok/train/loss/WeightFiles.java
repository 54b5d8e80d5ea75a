package dev.rectok.train.loss;

import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.PthCheckpoint;
import dev.rectok.torch.io.PthReader;
import dev.rectok.torch.io.PthTensor;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.io.SafeTensorsFile;
import dev.rectok.torch.nn.Module;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Reads the tensors of a {@code .safetensors} or {@code .pth} file (by file name extension) and
 * copies the selected ones into a module. Stateless; thread-safe.
 */
final class WeightFiles {
  private WeightFiles() {}

  /**
   * Copies the tensors of {@code file} whose names pass {@code select} into {@code target}
   * (names as in the file), strictly: every parameter and persistent buffer of {@code target}
   * must be present, and nothing selected may be left over.
   *
   * @throws IllegalArgumentException naming the keys when they do not match
   */
  static void load(Module target, Path file, Predicate<String> select) {
    load(target, file, k -> select.test(k) ? k : null, k -> true);
  }

  /**
   * Copies the tensors of {@code file} into {@code target} under the names {@code rename} gives
   * (null skips a tensor). Every key of {@code target}'s state dict that passes {@code required}
   * must be supplied, and every renamed tensor must exist in {@code target}; this is checked
   * before anything is copied.
   *
   * @throws IllegalArgumentException naming the keys when they do not match
   */
  static void load(Module target, Path file, java.util.function.UnaryOperator<String> rename,
      Predicate<String> required) {
    try {
      if (file.getFileName().toString().endsWith(".safetensors")) {
        try (SafeTensorsFile f = SafeTensors.open(file)) {
          copy(target, file, f.all(), rename, required);
        }
      } else {
        try (PthCheckpoint c = PthReader.read(file)) {
          Map<String, HostTensor> host = new LinkedHashMap<>();
          Map<String, PthTensor> tensors = c.topLevelKeys().contains("state_dict")
              ? c.tensors("state_dict") : c.tensors();
          tensors.forEach((k, v) -> host.put(k, v.toHost()));
          copy(target, file, host, rename, required);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read weights from " + file, e);
    }
  }

  private static void copy(Module target, Path file, Map<String, HostTensor> all,
      java.util.function.UnaryOperator<String> rename, Predicate<String> required) {
    Map<String, HostTensor> out = new LinkedHashMap<>();
    all.forEach((k, v) -> {
      String n = rename.apply(k);
      if (n != null) {
        out.put(n, v);
      }
    });
    java.util.List<String> missing = new java.util.ArrayList<>();
    for (String k : target.stateDict().keySet()) {
      if (required.test(k) && !out.containsKey(k)) {
        missing.add(k);
      }
    }
    java.util.List<String> unexpected = new java.util.ArrayList<>();
    for (String k : out.keySet()) {
      if (!target.stateDict().containsKey(k)) {
        unexpected.add(k);
      }
    }
    if (!missing.isEmpty() || !unexpected.isEmpty()) {
      throw new IllegalArgumentException(file + ": cannot load " + target.getClass().getSimpleName()
          + ": missing " + missing + ", unexpected " + unexpected + " (nothing was loaded)");
    }
    target.loadHostStateDict(out, false);
  }
}
