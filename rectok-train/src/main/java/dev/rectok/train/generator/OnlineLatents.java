package dev.rectok.train.generator;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.train.loop.Batch;
import java.util.Arrays;
import java.util.Objects;

/**
 * The reference's online latents (docs/training.md#generator-recipe): a frozen RecTok tokenizer
 * encodes each batch's images (already flipped by the data pipeline) with a <em>sampled</em>
 * posterior, mean + std·ε, and normalizes the channels with the tokenizer's statistics ({@code
 * tokenize(imgs, sampling=True)}, docs/tokenizer.md#posterior, #latent-statistics). The reference
 * runs this under bf16 autocast; here it runs in the tokenizer's dtype (float32), with autograd
 * off.
 *
 * <p><b>Ownership.</b> Borrows the tokenizer: the caller keeps it open (with its latent statistics
 * set, see {@link dev.rectok.models.stats.LatentStatistics#normalizeWith}) and on {@code device}
 * while this source is used, and closes it afterwards; {@link #close} does nothing. The tokenizer
 * is put in eval mode. <b>Threading.</b> Training thread only.
 */
public final class OnlineLatents implements LatentSource {
  private final RecTok tokenizer;

  /** Wraps {@code tokenizer} (borrowed) and puts it in eval mode. */
  public OnlineLatents(RecTok tokenizer) {
    this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    tokenizer.eval();
  }

  @Override
  public int channels() {
    return tokenizer.config().tokenChannels();
  }

  @Override
  public int gridSize() {
    return tokenizer.config().gridSize();
  }

  @Override
  public Tensor latents(Batch batch, TorchGenerator gen, Device device) {
    Tensor images = batch.images();
    int side = tokenizer.config().imgSize();
    long[] s = images.shape();
    if (s.length != 4 || s[1] != 3 || s[2] != side || s[3] != side || s[0] != batch.size()) {
      throw new IllegalArgumentException(
          "the tokenizer encodes ("
              + batch.size()
              + ", 3, "
              + side
              + ", "
              + side
              + ") images, got "
              + Arrays.toString(s));
    }
    try (Scope scope = Scope.open();
        GradMode g = GradMode.noGrad()) {
      Tensor z = tokenizer.tokenize(images.to(DType.FLOAT32, device), true, gen);
      return scope.keep(z.contiguous());
    }
  }

  @Override
  public void close() {}
}
