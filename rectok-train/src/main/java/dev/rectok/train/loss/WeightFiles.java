package dev.rectok.train.loss;

import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.StateDictLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The loss networks' policy over {@link StateDictLoader}: a {@code .safetensors} file, or a {@code
 * .pth} whose tensors sit under {@code state_dict} or at the top level; selected or renamed keys;
 * every selected key must exist in the module. Stateless; thread-safe.
 */
final class WeightFiles {
  private WeightFiles() {}

  /**
   * Copies the tensors of {@code file} whose names pass {@code select} into {@code target} (names
   * as in the file), strictly: every parameter and persistent buffer of {@code target} must be
   * present, and nothing selected may be left over.
   *
   * @throws IllegalArgumentException naming the keys when they do not match
   */
  static void load(Module target, Path file, Predicate<String> select) {
    load(target, file, k -> select.test(k) ? k : null, k -> true);
  }

  /**
   * Copies the tensors of {@code file} into {@code target} under the names {@code rename} gives
   * (null skips a tensor). Every key of {@code target}'s state dict that passes {@code required}
   * must be supplied, and every renamed tensor must exist in {@code target}; this is checked before
   * anything is copied.
   *
   * @throws IllegalArgumentException naming the keys when they do not match
   */
  static void load(
      Module target, Path file, UnaryOperator<String> rename, Predicate<String> required) {
    try {
      StateDictLoader.load(
          target,
          file,
          StateDictLoader.Policy.of(target.getClass().getSimpleName())
              .withPthEntry(c -> c.topLevelKeys().contains("state_dict") ? "state_dict" : null)
              .withRename(rename)
              .withRequired(required)
              .strict());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read weights from " + file, e);
    }
  }
}
