package dev.rectok.api;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.util.List;
import java.util.Objects;

/**
 * The size- and type-preserving reconstruction behind {@link Tokenizer#reconstruct(BufferedImage,
 * ImageFit)}. Stateless.
 */
final class ImageFits {
  private ImageFits() {}

  static BufferedImage reconstruct(Tokenizer tokenizer, BufferedImage image, ImageFit fit) {
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(fit, "fit");
    int w = image.getWidth();
    int h = image.getHeight();
    int s = tokenizer.imageSize();
    BufferedImage rgb = toRgb(image);
    BufferedImage out;
    if (fit == ImageFit.RESIZE) {
      BufferedImage rec = tokenizer.reconstruct(List.of(scale(rgb, s, s))).getFirst();
      out = scale(rec, w, h);
    } else {
      out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
      int[] px = new int[s * s];
      for (int y0 = 0; y0 < h; y0 += s) {
        for (int x0 = 0; x0 < w; x0 += s) {
          BufferedImage tile = new BufferedImage(s, s, BufferedImage.TYPE_INT_RGB);
          for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
              px[y * s + x] = rgb.getRGB(Math.min(x0 + x, w - 1), Math.min(y0 + y, h - 1));
            }
          }
          tile.setRGB(0, 0, s, s, px, 0, s);
          // one tile per call: a tile's result never depends on which other tiles share its batch
          BufferedImage rec = tokenizer.reconstruct(List.of(tile)).getFirst();
          int cw = Math.min(s, w - x0);
          int ch = Math.min(s, h - y0);
          rec.getRGB(0, 0, cw, ch, px, 0, cw);
          out.setRGB(x0, y0, cw, ch, px, 0, cw);
        }
      }
    }
    return like(out, image);
  }

  /** True for single-band gray images (8 or 16 bit), which go through the model as R = G = B. */
  static boolean isGray(BufferedImage image) {
    ColorModel cm = image.getColorModel();
    return !(cm instanceof IndexColorModel)
        && cm.getNumComponents() == 1
        && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY;
  }

  /** A TYPE_INT_RGB copy; gray samples are replicated (not colour-managed), alpha is dropped. */
  static BufferedImage toRgb(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    BufferedImage rgb = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    if (isGray(image)) {
      Raster r = image.getRaster();
      int max = (1 << image.getColorModel().getComponentSize(0)) - 1;
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int v = (int) Math.round(r.getSample(x, y, 0) * 255.0 / max);
          rgb.setRGB(x, y, (v << 16) | (v << 8) | v);
        }
      }
    } else {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          rgb.setRGB(x, y, image.getRGB(x, y) & 0xFFFFFF);
        }
      }
    }
    return rgb;
  }

  /**
   * {@code rgb} converted to {@code model}'s type and colour model; alpha copied from {@code
   * model}.
   */
  static BufferedImage like(BufferedImage rgb, BufferedImage model) {
    int w = rgb.getWidth();
    int h = rgb.getHeight();
    ColorModel cm = model.getColorModel();
    BufferedImage out;
    if (model.getType() == BufferedImage.TYPE_INT_RGB) {
      return rgb;
    } else if (isGray(model)) {
      out =
          new BufferedImage(
              cm, cm.createCompatibleWritableRaster(w, h), cm.isAlphaPremultiplied(), null);
      WritableRaster r = out.getRaster();
      int max = (1 << cm.getComponentSize(0)) - 1;
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int p = rgb.getRGB(x, y);
          double luma = 0.299 * ((p >> 16) & 255) + 0.587 * ((p >> 8) & 255) + 0.114 * (p & 255);
          r.setSample(x, y, 0, (int) Math.round(luma * max / 255.0));
        }
      }
      return out;
    } else if (model.getType() == BufferedImage.TYPE_CUSTOM || cm instanceof IndexColorModel) {
      out =
          new BufferedImage(
              cm, cm.createCompatibleWritableRaster(w, h), cm.isAlphaPremultiplied(), null);
    } else {
      out = new BufferedImage(w, h, model.getType());
    }
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int alpha = cm.hasAlpha() ? model.getRGB(x, y) & 0xFF000000 : 0xFF000000;
        out.setRGB(x, y, alpha | (rgb.getRGB(x, y) & 0xFFFFFF));
      }
    }
    return out;
  }

  /** Bilinear resize to w × h as TYPE_INT_RGB. */
  static BufferedImage scale(BufferedImage src, int w, int h) {
    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    try {
      g.setRenderingHint(
          RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.drawImage(src, 0, 0, w, h, null);
    } finally {
      g.dispose();
    }
    return out;
  }
}
