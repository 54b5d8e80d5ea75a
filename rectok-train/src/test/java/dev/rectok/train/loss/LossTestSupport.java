package dev.rectok.train.loss;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.torch.Tensor;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.SafeTensors;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

final class LossTestSupport {
  private LossTestSupport() {}

  /** Writes {@code state} under renamed keys (null drops a key). */
  static void write(Path file, Map<String, Tensor> state, UnaryOperator<String> rename)
      throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      Map<String, HostTensor> out = new LinkedHashMap<>();
      state.forEach(
          (k, v) -> {
            String n = rename.apply(k);
            if (n != null) {
              out.put(n, v.contiguous().toHost(arena));
            }
          });
      SafeTensors.write(file, out, Map.of());
    }
  }

  /** Asserts a gradient that is finite and not all zero. */
  static void assertUsefulGrad(Tensor grad) {
    assertThat(grad).as("gradient").isNotNull();
    assertThat(grad.isfinite().logicalNot().sum().itemLong())
        .as("non-finite gradient entries")
        .isZero();
    assertThat(grad.abs().sum().item()).as("gradient L1 norm").isGreaterThan(0.0);
  }
}
