package dev.rectok.train.generator;

import dev.rectok.api.Device;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.train.loop.Batch;

/**
 * Where the generator's training data x1 comes from: channel-normalized RecTok latents
 * (docs/tokenizer.md#latent-statistics) (B, C, h, w) for a {@link Batch}, with the posterior
 * sampled as the reference's {@code tokenize(imgs, sampling=True)} does. Two implementations:
 * {@link OnlineLatents} (a frozen tokenizer encodes every batch) and {@link LatentCache}
 * (posteriors encoded once, served by dataset index).
 *
 * <p><b>Ownership.</b> The returned tensor is new, carries no autograd history and belongs to the
 * caller (or the caller's open {@link dev.rectok.torch.Scope}); the batch is borrowed. A source
 * owns what {@link #close} frees, as each implementation states. <b>Threading.</b> Call from the
 * training thread only.
 */
public interface LatentSource extends AutoCloseable {

  /** Latent channels C. */
  int channels();

  /** Latent side h = w. */
  int gridSize();

  /**
   * The normalized, posterior-sampled latents of {@code batch} (B, C, h, w), float32 on {@code
   * device}; the posterior noise is drawn from {@code gen} (on {@code device}).
   */
  Tensor latents(Batch batch, TorchGenerator gen, Device device);

  @Override
  void close();
}
