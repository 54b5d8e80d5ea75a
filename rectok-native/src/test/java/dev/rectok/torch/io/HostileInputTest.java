package dev.rectok.torch.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.rectok.image.AdmPreprocess;
import dev.rectok.image.ImageLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10, bounded work for bounded input: a small file may not make a reader allocate or loop
 * beyond what it holds. The memory claims run in a child JVM with a 64 MiB heap.
 */
class HostileInputTest {
  @Test
  void aDeflatedPickleThatInflatesTo256MiBIsRefusedUnderA64MiBHeap(@TempDir Path tmp)
      throws Exception {
    Path bomb = HostileFiles.pickleBomb(tmp.resolve("bomb.pth"), 256L << 20);
    assertThat(Files.size(bomb)).isLessThan(1 << 20);
    ForkedReader.Result r = ForkedReader.run("pth", bomb, "64m", 60);
    assertThat(r.code()).as(r.output()).isEqualTo(3);
    assertThat(r.output())
        .contains(
            "bomb.pth",
            "data.pkl decompresses to more than " + InputLimits.DEFAULT_MAX_PICKLE_BYTES,
            "rectok.io.maxPickleBytes");
  }

  @Test
  void aPngDeclaring30000x30000PixelsIsRefusedFromItsHeaderUnderA64MiBHeap(@TempDir Path tmp)
      throws Exception {
    Path png = tmp.resolve("huge.png");
    Files.write(png, HostileFiles.png(30_000, 30_000, 1 << 16));
    ForkedReader.Result r = ForkedReader.run("image", png, "64m", 60);
    assertThat(r.code()).as(r.output()).isEqualTo(3);
    assertThat(r.output())
        .contains("huge.png", "30000x30000", ImageLimits.DEFAULT_MAX_PIXELS + "-pixel limit");
  }

  @Test
  void aMemoBombIsRefusedQuicklyAndNamesTheLimit(@TempDir Path tmp) {
    // 60 levels, two references each: 2^61 nodes as a tree from a pickle of a few hundred bytes
    byte[] pickle = HostileFiles.memoBomb(60, 2);
    assertThat(pickle.length).isLessThan(1024);
    Path f = PickleWriter.zip(tmp.resolve("laughs.pth"), PickleWriter.records(pickle), false);
    assertTimeoutPreemptively(
        Duration.ofSeconds(20),
        () ->
            assertThatThrownBy(() -> PthReader.read(f).close())
                .isInstanceOf(CheckpointFormatException.class)
                .hasMessageContaining("laughs.pth")
                .hasMessageContaining("memo-reference bomb"));
  }

  @Test
  void fifosAndFoldersAreRefusedWithoutBlocking(@TempDir Path tmp) throws Exception {
    Path fifo = tmp.resolve("model.safetensors");
    Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertThat(mk.waitFor()).isZero();
    Path folder = Files.createDirectory(tmp.resolve("img.png"));
    assertTimeoutPreemptively(
        Duration.ofSeconds(20),
        () -> {
          assertThatThrownBy(() -> SafeTensors.open(fifo))
              .isInstanceOf(IOException.class)
              .hasMessageContaining("model.safetensors")
              .hasMessageContaining("not a regular file");
          assertThatThrownBy(() -> PthReader.read(fifo))
              .isInstanceOf(IOException.class)
              .hasMessageContaining("not a regular file");
          assertThatThrownBy(() -> AdmPreprocess.read(fifo))
              .isInstanceOf(IOException.class)
              .hasMessageContaining("not a regular file");
          assertThatThrownBy(() -> AdmPreprocess.read(folder))
              .isInstanceOf(IOException.class)
              .hasMessageContaining("img.png")
              .hasMessageContaining("is a folder");
        });
  }

  @Test
  void jsonOutputsFollowTheUmaskLikeModelFiles(@TempDir Path tmp) throws IOException {
    Path json = tmp.resolve("stats.json");
    AtomicFiles.write(json, "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    Path plain = Files.createFile(tmp.resolve("plain"));
    assertThat(Files.getPosixFilePermissions(json)).isEqualTo(Files.getPosixFilePermissions(plain));
    try (var arena = java.lang.foreign.Arena.ofConfined()) {
      Path model = tmp.resolve("m.safetensors");
      SafeTensors.write(model, java.util.Map.of(), java.util.Map.of());
      assertThat(Files.getPosixFilePermissions(model))
          .isEqualTo(Files.getPosixFilePermissions(plain));
    }
  }

  @Test
  void terminalControlCharactersAreEscaped() {
    assertThat(SafeText.of("w\u001b[2J\u0007\u202eeight\u0085"))
        .isEqualTo("w\\x1b[2J\\x07\\u202eeight\\x85");
    assertThat(SafeText.of("blocks.0.attn.qkv.weight")).isEqualTo("blocks.0.attn.qkv.weight");
    assertThat(SafeText.message("line one\nline\rtwo")).isEqualTo("line one\nline\\x0dtwo");
  }
}
