package dev.rectok.torch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.PthCheckpoint;
import dev.rectok.torch.io.PthReader;
import dev.rectok.torch.io.PthTensor;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.io.SafeTensorsFile;
import dev.rectok.torch.nn.Linear;
import dev.rectok.torch.nn.Module;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files to tensors and back: checkpoints reach LibTorch unchanged. */
class CheckpointTensorTest {
  private static final Path GOLDEN =
      Path.of(System.getProperty("rectok.golden.dir", "../golden/public"));

  @Test
  void goldenPthTensorsEqualTheirSafetensorsTwinInLibTorch() throws IOException {
    try (PthCheckpoint pth =
            PthReader.read(GOLDEN.resolve("case1_tokenizer_inference/weights.pth"));
        SafeTensorsFile st =
            SafeTensors.open(GOLDEN.resolve("case1_tokenizer_inference/weights.safetensors"));
        Scope s = Scope.open()) {
      Map<String, PthTensor> ema = pth.tensors("model_ema");
      assertThat(ema.keySet()).containsExactlyInAnyOrderElementsOf(st.names());
      for (String name : st.names()) {
        PthTensor p = ema.get(name);
        Tensor fromPth = Tensor.fromHost(p.toHost());
        Tensor fromSt = Tensor.fromHost(st.get(name));
        assertThat(fromPth.equal(fromSt)).as(name).isTrue();
      }
    }
  }

  static final class Two extends Module {
    final Linear a = registerModule("a", new Linear(5, 3, true));
    final Linear b = registerModule("b", new Linear(3, 2, false));
  }

  @Test
  void aModuleRoundTripsThroughSafetensors(@TempDir Path tmp) throws IOException {
    Path file = tmp.resolve("two.safetensors");
    try (Two src = new Two();
        Two dst = new Two();
        Arena arena = Arena.ofConfined()) {
      Map<String, HostTensor> host = new LinkedHashMap<>();
      src.stateDict().forEach((k, v) -> host.put(k, v.toHost(arena)));
      SafeTensors.write(file, host, Map.of("format", "pt"));
      try (SafeTensorsFile f = SafeTensors.open(file)) {
        assertThat(f.metadata()).containsEntry("format", "pt");
        dev.rectok.torch.nn.LoadReport r = dst.loadHostStateDict(f.all(), true);
        assertThat(r.isClean()).isTrue();
      }
      for (var e : src.stateDict().entrySet()) {
        assertThat(dst.stateDict().get(e.getKey()).equal(e.getValue())).as(e.getKey()).isTrue();
      }
    }
  }

  @Test
  void stridedStorageViewsBecomeDenseTensors() {
    float[] storage = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    try (Tensor t =
        Tensor.fromStorage(
            java.lang.foreign.MemorySegment.ofArray(storage),
            dev.rectok.api.DType.FLOAT32,
            new long[] {2, 3},
            new long[] {1, 2},
            1)) {
      // elements at 1 + i + 2j
      assertThat(t.toFloatArray()).containsExactly(1, 3, 5, 2, 4, 6);
      assertThat(t.stride()).containsExactly(3, 1);
    }
  }
}
