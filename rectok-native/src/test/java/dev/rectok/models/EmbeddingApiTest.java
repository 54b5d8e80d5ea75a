package dev.rectok.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rectok.api.Backends;
import dev.rectok.api.Device;
import dev.rectok.api.Latents;
import dev.rectok.api.NativeMemory;
import dev.rectok.api.Tokenizer;
import dev.rectok.api.spi.Backend;
import dev.rectok.image.ImageLimits;
import dev.rectok.torch.io.CheckpointFormatException;
import java.awt.image.BufferedImage;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a plain application needs from the API without reaching into implementation classes. */
class EmbeddingApiTest {
  @TempDir Path tmp;
  private final Path model = DemoModel.file("tokenizer.safetensors");

  private static List<BufferedImage> images() {
    return List.of(
        ImageFitPropertyTest.image(32, 32, BufferedImage.TYPE_INT_RGB, 1),
        ImageFitPropertyTest.image(40, 36, BufferedImage.TYPE_INT_RGB, 2));
  }

  @Test
  void modelsOpenFromStreamsUrlsAndClassPathResourcesAlike() throws Exception {
    Path jar = tmp.resolve("models.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      out.putNextEntry(new JarEntry("rectok-models/test/tokenizer.safetensors"));
      Files.copy(model, out);
      out.closeEntry();
    }
    Latents expected;
    try (Tokenizer t = Backends.openTokenizer(model, Device.CPU)) {
      assertThat(t.hasStatistics()).isTrue();
      expected = t.encode(images());
    }
    Backend backend = Backends.load();
    try (InputStream in = Files.newInputStream(model);
        Tokenizer t = backend.openTokenizer(in, Device.CPU)) {
      assertThat(t.encode(images())).isEqualTo(expected);
    }
    try (Tokenizer t = Backends.openTokenizer(model.toUri().toURL(), Device.CPU)) {
      assertThat(t.encode(images())).isEqualTo(expected);
    }
    try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null);
        Tokenizer t =
            Backends.openTokenizerResource(
                "rectok-models/test/tokenizer.safetensors", loader, Device.CPU)) {
      assertThat(t.encode(images())).isEqualTo(expected);
    }
  }

  @Test
  void liveNativeMemoryIsVisibleThroughTheApiAndReturnsAfterClose() throws Exception {
    Backend backend = Backends.load();
    NativeMemory before = backend.nativeMemory();
    assertThat(before.residentBytes()).isPositive();
    try (Tokenizer t = backend.openTokenizer(model, Device.CPU)) {
      assertThat(backend.nativeMemory().liveTensors()).isGreaterThan(before.liveTensors());
      t.reconstruct(images());
    }
    assertThat(backend.nativeMemory().liveTensors()).isEqualTo(before.liveTensors());
  }

  @Test
  void aCudaDeviceOnACpuBuildIsAPlainSentence() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        dev.rectok.torch.Torch.cudaDeviceCount() == 0, "this LibTorch has CUDA devices");
    assertThatThrownBy(() -> Backends.openTokenizer(model, Device.cuda(0)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cuda:0 is not available")
        .satisfies(e -> assertThat(e.getMessage().length()).isLessThan(400));
  }

  @Test
  void aFileThatIsNotAModelIsNamed() throws Exception {
    Path png = tmp.resolve("photo.png");
    ImageIO.write(images().getFirst(), "png", png.toFile());
    assertThatThrownBy(() -> Backends.openTokenizer(png, Device.CPU))
        .isInstanceOf(CheckpointFormatException.class)
        .hasMessageStartingWith(png + " is not a RecTok model file");
  }

  @Test
  void imagesAboveThePixelLimitAreRefusedBeforeDecoding() throws Exception {
    Path big = tmp.resolve("big.png");
    ImageIO.write(new BufferedImage(300, 200, BufferedImage.TYPE_BYTE_GRAY), "png", big.toFile());
    String old = System.getProperty(ImageLimits.MAX_PIXELS_PROPERTY);
    System.setProperty(ImageLimits.MAX_PIXELS_PROPERTY, "50000");
    try (Tokenizer t = Backends.openTokenizer(model, Device.CPU)) {
      assertThatThrownBy(() -> t.read(List.of(big)))
          .isInstanceOf(java.io.IOException.class)
          .hasMessageContaining(big.toString())
          .hasMessageContaining("300x200")
          .hasMessageContaining("-D" + ImageLimits.MAX_PIXELS_PROPERTY);
      assertThatThrownBy(
              () -> t.encode(List.of(new BufferedImage(300, 200, BufferedImage.TYPE_INT_RGB))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("image 0")
          .hasMessageContaining("300x200");
      System.setProperty(ImageLimits.MAX_PIXELS_PROPERTY, "60000");
      assertThat(t.read(List.of(big))).hasSize(1);
    } finally {
      if (old == null) {
        System.clearProperty(ImageLimits.MAX_PIXELS_PROPERTY);
      } else {
        System.setProperty(ImageLimits.MAX_PIXELS_PROPERTY, old);
      }
    }
    assertThat(ImageLimits.maxPixels()).isEqualTo(ImageLimits.DEFAULT_MAX_PIXELS);
  }
}
