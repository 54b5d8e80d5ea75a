/**
 * Where image data comes from, below every consumer: {@link dev.rectok.data.ImageList} names the
 * image files of a folder tree or a list file, in a platform-independent order with a fingerprint.
 * The latent-statistics collector ({@code dev.rectok.models.stats}) and the trainers' datasets
 * ({@code dev.rectok.train.data}) both read it, so it lives in the lowest module that needs it.
 */
package dev.rectok.data;
