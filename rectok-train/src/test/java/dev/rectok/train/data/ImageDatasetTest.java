package dev.rectok.train.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Labels and discovery of {@link ImageDataset}. */
class ImageDatasetTest {

  static void writeImage(Path file, int w, int h, int seed, String format) throws IOException {
    Files.createDirectories(file.getParent());
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int r = (x * 11 + seed * 37) & 0xff;
        int g = (y * 13 + seed * 71) & 0xff;
        int b = (x * y + seed * 5) & 0xff;
        img.setRGB(x, y, r << 16 | g << 8 | b);
      }
    }
    if (!ImageIO.write(img, format, file.toFile())) {
      throw new IOException("no writer for " + format);
    }
  }

  @Test
  void labelsFollowSortedClassFolders(@TempDir Path dir) throws IOException {
    writeImage(dir.resolve("zebra/z1.png"), 20, 18, 1, "png");
    writeImage(dir.resolve("apple/a1.jpg"), 20, 18, 2, "jpg");
    writeImage(dir.resolve("apple/a2.png"), 20, 18, 3, "png");
    writeImage(dir.resolve("mango/deep/m1.png"), 20, 18, 4, "png");
    Files.createDirectories(dir.resolve("empty"));
    Files.writeString(dir.resolve("zebra/notes.txt"), "not an image");

    ImageDataset ds = ImageDataset.fromFolder(dir, 16);

    assertThat(ds.classNames()).containsExactly("apple", "mango", "zebra");
    assertThat(ds.size()).isEqualTo(4);
    assertThat(ds.imageList().names())
        .containsExactly("apple/a1.jpg", "apple/a2.png", "mango/deep/m1.png", "zebra/z1.png");
    int[] labels = new int[ds.size()];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = ds.label(i);
    }
    assertThat(labels).containsExactly(0, 0, 1, 2);
    assertThat(ds.load(3).width()).isEqualTo(16);
    assertThat(ds.load(3).height()).isEqualTo(16);
    assertThat(ImageDataset.open(dir, 16).identity()).isEqualTo(ds.identity());
  }

  @Test
  void fileListWithAndWithoutLabels(@TempDir Path dir) throws IOException {
    writeImage(dir.resolve("imgs/a.png"), 16, 16, 1, "png");
    writeImage(dir.resolve("imgs/b.png"), 16, 16, 2, "png");
    writeImage(dir.resolve("c.png"), 16, 16, 3, "png");
    Path list = dir.resolve("train.txt");
    Files.writeString(list, "# path<TAB>label\nimgs/a.png\t7\n\nimgs/b.png\t0\nc.png\n");

    ImageDataset ds = ImageDataset.fromFileList(list, 16);

    assertThat(ds.size()).isEqualTo(3);
    assertThat(ds.classNames()).isEmpty();
    assertThat(List.of(ds.path(0), ds.path(1), ds.path(2)))
        .containsExactly(
            dir.resolve("imgs/a.png").toAbsolutePath().normalize(),
            dir.resolve("imgs/b.png").toAbsolutePath().normalize(),
            dir.resolve("c.png").toAbsolutePath().normalize());
    assertThat(new int[] {ds.label(0), ds.label(1), ds.label(2)})
        .containsExactly(7, 0, ImageDataset.NO_LABEL);
    assertThat(ds.load(0).data()).isEqualTo(ImageDataset.open(list, 16).load(0).data());

    Files.writeString(list, "imgs/a.png\tcat\n");
    assertThatThrownBy(() -> ImageDataset.fromFileList(list, 16))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("cat");
    Files.writeString(list, "imgs/a.png\t-3\n");
    assertThatThrownBy(() -> ImageDataset.fromFileList(list, 16))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("-3");
  }

  @Test
  void missingFolderFails(@TempDir Path dir) {
    assertThatThrownBy(() -> ImageDataset.fromFolder(dir.resolve("nope"), 16))
        .isInstanceOf(IOException.class);
  }
}
