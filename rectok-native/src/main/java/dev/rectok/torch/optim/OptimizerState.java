package dev.rectok.torch.optim;

import dev.rectok.api.DType;
import dev.rectok.torch.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Validation shared by {@link Optimizer#importState} implementations. */
final class OptimizerState {
  private OptimizerState() {}

  /** An expected entry: its shape and, when not null, its dtype. */
  record Expected(long[] shape, DType dtype) {}

  /** Throws naming every missing, unexpected or mis-shaped key; touches nothing. */
  static void check(String who, Map<String, Tensor> state, Map<String, Expected> expected) {
    List<String> missing = new ArrayList<>();
    List<String> unexpected = new ArrayList<>();
    List<String> mismatched = new ArrayList<>();
    for (var e : expected.entrySet()) {
      Tensor t = state.get(e.getKey());
      if (t == null) {
        missing.add(e.getKey());
      } else if (!Arrays.equals(t.shape(), e.getValue().shape())
          || (e.getValue().dtype() != null && t.dtype() != e.getValue().dtype())) {
        mismatched.add(
            e.getKey()
                + ": given "
                + t.dtype()
                + Arrays.toString(t.shape())
                + ", expected "
                + (e.getValue().dtype() == null ? "" : e.getValue().dtype())
                + Arrays.toString(e.getValue().shape()));
      }
    }
    for (String k : state.keySet()) {
      if (!expected.containsKey(k)) {
        unexpected.add(k);
      }
    }
    if (!missing.isEmpty() || !unexpected.isEmpty() || !mismatched.isEmpty()) {
      throw new IllegalArgumentException(
          who
              + " state does not fit: missing "
              + missing
              + ", unexpected "
              + unexpected
              + ", mismatched "
              + mismatched
              + " (nothing was loaded)");
    }
  }
}
