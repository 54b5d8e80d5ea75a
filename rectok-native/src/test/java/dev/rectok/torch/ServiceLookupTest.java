package dev.rectok.torch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.api.Backends;
import dev.rectok.api.RuntimeInfo;
import dev.rectok.api.spi.Backend;
import dev.rectok.models.TorchBackend;
import org.junit.jupiter.api.Test;

/** Applications reach the implementation through the JPMS service declared by dev.rectok.torch. */
class ServiceLookupTest {

  @Test
  void theApiFindsTheLibTorchBackendAsAService() {
    Backend b = Backends.load();
    assertThat(b).isInstanceOf(TorchBackend.class);
    RuntimeInfo info = b.runtimeInfo();
    assertThat(info.backend()).isEqualTo("libtorch");
    assertThat(info.version()).matches("\\d+\\.\\d+\\.\\d+.*").doesNotContain(" ");
    assertThat(info.facts())
        .containsKeys("shim", "libtorch path", "BLAS", "intra-op threads", "CUDA devices");
    assertThat(info.facts().get("native access")).startsWith("enabled");
    assertThat(info.facts().get("intra-op threads"))
        .startsWith(Runtime.getRuntime().availableProcessors() + " of");
    assertThat(Torch.numThreads()).isEqualTo(Runtime.getRuntime().availableProcessors());
  }
}
