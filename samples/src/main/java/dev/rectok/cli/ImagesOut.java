package dev.rectok.cli;

import java.awt.Color;
import java.awt.Graphics2D;
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

  static List<Path> writeAll(List<BufferedImage> images, Path dir, String prefix) throws IOException {
    Files.createDirectories(dir);
    List<Path> out = new ArrayList<>();
    for (int i = 0; i < images.size(); i++) {
      Path p = dir.resolve(String.format("%s%04d.png", prefix, i));
      if (!ImageIO.write(images.get(i), "png", p.toFile())) {
        throw new IOException("no PNG writer available for " + p);
      }
      out.add(p);
    }
    return out;
  }

  /** A grid of images, each with its caption underneath. */
  static BufferedImage grid(List<BufferedImage> images, List<String> captions, int columns) {
    int w = images.get(0).getWidth();
    int h = images.get(0).getHeight();
    int caption = 14;
    int rows = (images.size() + columns - 1) / columns;
    BufferedImage g = new BufferedImage(columns * w, rows * (h + caption), BufferedImage.TYPE_INT_RGB);
    Graphics2D gr = g.createGraphics();
    gr.setColor(Color.WHITE);
    gr.fillRect(0, 0, g.getWidth(), g.getHeight());
    gr.setColor(Color.BLACK);
    for (int i = 0; i < images.size(); i++) {
      int x = (i % columns) * w;
      int y = (i / columns) * (h + caption);
      gr.drawImage(images.get(i), x, y, null);
      gr.drawString(captions.get(i), x + 2, y + h + caption - 3);
    }
    gr.dispose();
    return g;
  }
}
