package dev.rectok.torch.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The golden .pth files (real torch.save output) against their safetensors twins, which an
 * independent writer produced from {@code model_ema}.
 */
class GoldenCheckpointTest {
  /**
   * The training checkpoints ({@code model} + {@code model_ema}); other cases' .pth files are not.
   */
  static List<Path> pthFiles() {
    return Golden.find("*weights.pth");
  }

  static List<Path> ioFiles() {
    return Golden.find("io.safetensors");
  }

  @Test
  void goldenFilesArePresent() {
    assertEquals(5, pthFiles().size(), "case1/2/3/3b weights.pth and case3b guide_weights.pth");
    assertFalse(ioFiles().isEmpty());
  }

  @ParameterizedTest
  @MethodSource("pthFiles")
  void modelEmaMatchesTheSafetensorsTwinBitForBit(Path pth) throws IOException {
    String twin = pth.getFileName().toString().replaceFirst("\\.pth$", ".safetensors");
    try (PthCheckpoint ck = PthReader.read(pth);
        SafeTensorsFile st = SafeTensors.open(pth.resolveSibling(twin))) {
      assertTrue(ck.topLevelKeys().containsAll(List.of("model", "model_ema")), pth.toString());
      Map<String, PthTensor> ema = ck.tensors("model_ema");
      // the twin's writer may order its header differently, so compare the name sets
      assertEquals(new java.util.TreeSet<>(st.names()), new java.util.TreeSet<>(ema.keySet()));
      for (String name : st.names()) {
        HostTensor expected = st.get(name);
        HostTensor actual = ema.get(name).toHost();
        assertEquals(expected.dtype(), actual.dtype(), name);
        assertArrayEquals(expected.shape(), actual.shape(), name);
        assertEquals(-1, expected.data().mismatch(actual.data()), name + " bytes differ");
      }

      // model = state_dict; model_ema = model + noise for trainable tensors, so picking the
      // wrong dict must be detectable; frozen parameters share their storage with model.
      Map<String, PthTensor> model = ck.tensors("model");
      int differing = 0;
      for (Map.Entry<String, PthTensor> e : ema.entrySet()) {
        PthTensor m = model.get(e.getKey());
        if (m == null) {
          continue;
        }
        PthTensor t = e.getValue();
        if (t.isParameter()) {
          assertEquals(m.storageKey(), t.storageKey(), "frozen parameter shares storage");
          assertEquals(m.toHost(), t.toHost());
        } else if (!m.toHost().equals(t.toHost())) {
          differing++;
        }
      }
      assertTrue(differing > 0, "model and model_ema differ for some trainable tensor");
    }
  }

  @Test
  void frozenDiTParametersArePickledAsSharedParameters() throws IOException {
    Path pth =
        pthFiles().stream()
            .filter(p -> p.toString().contains("case3_dit_forward"))
            .findFirst()
            .orElseThrow();
    try (PthCheckpoint ck = PthReader.read(pth)) {
      PthTensor pos = ck.tensors("model_ema").get("pos_embed");
      assertTrue(pos.isParameter());
      assertFalse(pos.requiresGrad());
      assertEquals(ck.tensors("model").get("pos_embed").storageKey(), pos.storageKey());
      assertTrue(((Map<?, ?>) ck.root()).get("epoch") instanceof Long);
      assertTrue(((Map<?, ?>) ck.root()).get("last_elapsed_time") instanceof Double);
    }
  }

  @ParameterizedTest
  @MethodSource("ioFiles")
  void ioSafetensorsOpenAndEveryTensorIsReadable(Path file) throws IOException {
    try (SafeTensorsFile st = SafeTensors.open(file)) {
      assertFalse(st.names().isEmpty());
      long bytes = 0;
      for (Map.Entry<String, HostTensor> e : st.all().entrySet()) {
        HostTensor h = e.getValue();
        TensorInfo info = st.info(e.getKey());
        assertEquals(info.byteSize(), h.data().byteSize());
        assertEquals(h.numel() * h.dtype().byteSize(), h.data().byteSize());
        if (h.data().byteSize() > 0) {
          h.data().get(ValueLayout.JAVA_BYTE, h.data().byteSize() - 1); // touch the last byte
        }
        bytes += info.byteSize();
      }
      assertEquals(
          java.nio.file.Files.size(file),
          st.info(st.names().getFirst()).bufferStart() + bytes,
          "tensors tile the buffer");
    }
  }
}
