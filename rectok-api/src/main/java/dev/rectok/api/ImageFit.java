package dev.rectok.api;

/**
 * How {@link Tokenizer#reconstruct(java.awt.image.BufferedImage, ImageFit)} maps an image of any
 * size onto the model's square input and back. Both keep the input's size and type.
 */
public enum ImageFit {
  /**
   * Square tiles of the model's size, the edge tiles padded by repeating the border; sharp, slower
   * for big images.
   */
  TILE,
  /** The whole image resized to the model's size and the result resized back (bilinear). */
  RESIZE
}
