package dev.rectok.image;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A labelled grid of equally sized images, as PNG: sample sheets of the CLI and of training run
 * directories. Stateless; thread-safe.
 */
public final class ImageGrid {
  private ImageGrid() {}

  /**
   * Images in rows of {@code columns}, each with its caption underneath (no caption row when null).
   */
  public static BufferedImage of(List<BufferedImage> images, List<String> captions, int columns) {
    return of(images, captions, columns, 1);
  }

  /**
   * The same with every image enlarged {@code scale} times (nearest neighbour), so captions fit
   * under small images; a null or empty caption leaves its cell's caption blank.
   */
  public static BufferedImage of(
      List<BufferedImage> images, List<String> captions, int columns, int scale) {
    if (images.isEmpty()
        || columns < 1
        || scale < 1
        || (captions != null && captions.size() != images.size())) {
      throw new IllegalArgumentException(
          "need images, a caption per image (or none), columns >= 1 and scale >= 1");
    }
    int w = images.get(0).getWidth() * scale;
    int h = images.get(0).getHeight() * scale;
    int caption = captions == null ? 0 : 14;
    int rows = (images.size() + columns - 1) / columns;
    BufferedImage g =
        new BufferedImage(columns * w, rows * (h + caption), BufferedImage.TYPE_INT_RGB);
    Graphics2D gr = g.createGraphics();
    gr.setColor(Color.WHITE);
    gr.fillRect(0, 0, g.getWidth(), g.getHeight());
    gr.setColor(Color.BLACK);
    for (int i = 0; i < images.size(); i++) {
      int x = (i % columns) * w;
      int y = (i / columns) * (h + caption);
      gr.drawImage(images.get(i), x, y, w, h, null);
      if (captions != null && captions.get(i) != null) {
        gr.drawString(captions.get(i), x + 2, y + h + caption - 3);
      }
    }
    gr.dispose();
    return g;
  }

  /** Writes {@code image} as PNG. */
  public static void writePng(BufferedImage image, Path file) throws IOException {
    if (!ImageIO.write(image, "png", file.toFile())) {
      throw new IOException("no PNG writer available for " + file);
    }
  }
}
