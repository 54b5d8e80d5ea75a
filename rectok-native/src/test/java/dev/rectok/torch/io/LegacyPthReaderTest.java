package dev.rectok.torch.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The legacy (pre-1.6) torch.save format: the golden file, truncation, tampering, refusal of
 * foreign globals.
 */
class LegacyPthReaderTest {
  private static final Path FILE = Golden.dir().resolve("case7_inception_fid/legacy_subset.pth");

  @Test
  void theGoldenLegacyFileReadsWithEveryTensorBitExact() throws Exception {
    try (PthCheckpoint ck = PthReader.read(FILE);
        SafeTensorsFile io = SafeTensors.open(FILE.resolveSibling("io.safetensors"))) {
      Map<String, PthTensor> t = ck.tensors();
      assertThat(t).hasSize(6).containsKeys("Conv2d_1a_3x3.conv.weight", "fc.bias");
      for (var e : t.entrySet()) {
        HostTensor expected = io.get("legacy." + e.getKey());
        HostTensor actual = e.getValue().toHost();
        assertThat(actual.shape()).isEqualTo(expected.shape());
        assertThat(actual.data().toArray(ValueLayout.JAVA_BYTE))
            .isEqualTo(expected.data().toArray(ValueLayout.JAVA_BYTE));
      }
    }
  }

  @Property(tries = 60)
  void everyTruncationIsRefusedWithTheFileName(@ForAll @IntRange(min = 0, max = 999) int permille)
      throws Exception {
    Path tmp = Files.createTempDirectory("rt11");
    try {
      byte[] all = Files.readAllBytes(FILE);
      int n = (int) ((long) all.length * permille / 1000);
      Path f = Files.write(tmp.resolve("cut.pth"), Arrays.copyOf(all, n));
      assertThatThrownBy(() -> PthReader.read(f))
          .isInstanceOf(CheckpointFormatException.class)
          .hasMessageContaining("cut.pth");
    } finally {
      TestFiles.deleteTree(tmp);
    }
  }

  @Test
  void trailingBytesAndWrongCountsAreRefused(@TempDir Path tmp) throws Exception {
    byte[] all = Files.readAllBytes(FILE);
    Path extra = Files.write(tmp.resolve("extra.pth"), Arrays.copyOf(all, all.length + 3));
    assertThatThrownBy(() -> PthReader.read(extra))
        .isInstanceOf(CheckpointFormatException.class)
        .hasMessageContaining("unexpected bytes");
  }

  @Test
  void aForeignGlobalIsRefusedAndNeverCalled(@TempDir Path tmp) throws Exception {
    byte[] all = Files.readAllBytes(FILE);
    String s = new String(all, StandardCharsets.ISO_8859_1);
    String evil = s.replaceFirst("collections\nOrderedDict\n", "os\nsystem\n");
    assertThat(evil).isNotEqualTo(s);
    Path f = Files.write(tmp.resolve("evil.pth"), evil.getBytes(StandardCharsets.ISO_8859_1));
    assertThatThrownBy(() -> PthReader.read(f))
        .isInstanceOf(CheckpointFormatException.class)
        .hasMessageContaining("os.system")
        .hasMessageContaining("evil.pth");
  }

  @Test
  void aWrongMagicNumberIsNotTakenForALegacyFile(@TempDir Path tmp) throws Exception {
    byte[] all = Files.readAllBytes(FILE);
    all[5] ^= 1;
    Path f = Files.write(tmp.resolve("magic.pth"), all);
    assertThatThrownBy(() -> PthReader.read(f))
        .isInstanceOf(CheckpointFormatException.class)
        .hasMessageContaining("magic.pth");
  }
}
