package dev.rectok.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/** Writing PNGs and labelled grids. */
final class ImagesOut {
  private ImagesOut() {}

  /** The file {@link #writeAll} writes the {@code i}-th image to. */
  static Path file(Path dir, String prefix, int i) {
    return dir.resolve(String.format("%s%04d.png", prefix, i));
  }

  /** The files {@link #writeAll} writes {@code n} images to. */
  static List<Path> files(Path dir, String prefix, int n) {
    List<Path> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(file(dir, prefix, i));
    }
    return out;
  }

  static List<Path> writeAll(List<BufferedImage> images, Path dir, String prefix)
      throws IOException {
    Files.createDirectories(dir);
    List<Path> out = new ArrayList<>();
    for (int i = 0; i < images.size(); i++) {
      Path p = file(dir, prefix, i);
      if (!ImageIO.write(images.get(i), "png", p.toFile())) {
        throw new IOException("no PNG writer available for " + p);
      }
      out.add(p);
    }
    return out;
  }

  /** A grid of images, each with its caption underneath. */
  static BufferedImage grid(List<BufferedImage> images, List<String> captions, int columns) {
    return dev.rectok.image.ImageGrid.of(images, captions, columns);
  }
}
