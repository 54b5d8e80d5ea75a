package dev.rectok.models.tokenizer;

import dev.rectok.api.DType;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Conv2d;
import dev.rectok.torch.nn.Linear;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.ModuleList;
import dev.rectok.torch.nn.Parameter;
import dev.rectok.torch.nn.RMSNorm;
import dev.rectok.torch.nn.Sequential;
import java.util.ArrayList;
import java.util.List;

/**
 * The ViT encoder ({@code Encoder} of {@code models/rectok.py}): patch-embedding conv, learned
 * positions, {@code ln_pre}, RoPE blocks, {@code ln_post}, and a latent head emitting mean ‖ logvar
 * (2C channels, or C with {@code disable_kl}) per token.
 *
 * <p>Owns its parameters and the non-persistent {@code rope_tensor} buffer (recomputed here, never
 * loaded). Eval-mode forward passes may run concurrently; results belong to the caller.
 *
 * <p>Threading and ownership as for every {@link dev.rectok.torch.nn.Module}: concurrent eval-mode
 * forwards are safe; it owns its parameters.
 */
public final class Encoder extends Module {
  private final int grid;
  private final int seqLen;
  private final Parameter positionalEmbedding;
  private final Sequential patchEmbed;
  private final RMSNorm lnPre;
  private final List<Block> blocks = new ArrayList<>();
  private final RMSNorm lnPost;
  private final Linear latentHead;

  /** The result of a masked (training) forward pass; closes its tensors. */
  public record MaskedOutput(Tensor z, Tensor mask, Tensor idsRestore, Tensor idsKeep)
      implements AutoCloseable {
    @Override
    public void close() {
      z.close();
      mask.close();
      idsRestore.close();
      idsKeep.close();
    }
  }

  public Encoder(RecTokConfig cfg) {
    RecTokConfig.ModelSize size = cfg.encoderSize();
    int width = size.width();
    int patch = cfg.patchSize();
    this.grid = cfg.gridSize();
    this.seqLen = cfg.seqLen();
    // Registration order = the reference's state_dict order.
    this.positionalEmbedding =
        registerParameter(
            "positional_embedding",
            Tensor.zeros(1, seqLen, width).normal_(0, Math.pow(width, -0.5), null));
    this.patchEmbed =
        registerModule(
            "patch_embed",
            new Sequential(
                new Conv2d(3, width, patch, patch, 0),
                // "b c h w -> b (h w) c", materialised: left as a transposed view (as the reference
                // does),
                // the whole residual stream inherits that layout, the norms reduce over a strided
                // last
                // dim and every qkv/w12 Linear takes ATen's batched-matmul path instead of one
                // addmm.
                new Rearrange(
                    "b c h w -> b (h w) c", t -> t.flatten(2, 3).transpose(1, 2).contiguous())));
    this.lnPre = registerModule("ln_pre", new RMSNorm(width, Block.NORM_EPS));
    ModuleList<Block> transformer = registerModule("transformer", new ModuleList<>());
    for (int i = 0; i < size.layers(); i++) {
      blocks.add(transformer.add(new Block(width, size.heads())));
    }
    this.lnPost = registerModule("ln_post", new RMSNorm(width, Block.NORM_EPS));
    this.latentHead =
        registerModule("latent_head", new Linear(width, cfg.encoderOutChannels(), true));
    // A scope frees the unsqueezed-away table; the buffer itself escapes into the module.
    try (Scope s = Scope.open()) {
      registerBuffer(
          "rope_tensor", TokenizerRope.table(size.headDim(), grid, grid).unsqueeze(0), false);
    }
  }

  /** The learned positions (1, L, width). */
  public Parameter positionalEmbedding() {
    return positionalEmbedding;
  }

  /** The encoder's RoPE table (1, L, 2·headDim), borrowed. */
  public Tensor ropeTensor() {
    return buffer("rope_tensor");
  }

  /** Unmasked forward: image (B, 3, H, W) in [-1, 1] to z (B, L, 2C). */
  public Tensor forward(Tensor x) {
    return forward(x, ActivationProbe.NONE);
  }

  /**
   * Unmasked forward reporting {@code patch_embed}, {@code block<i>} and {@code ln_post} to {@code
   * probe}.
   */
  public Tensor forward(Tensor x, ActivationProbe probe) {
    try (Scope s = Scope.open()) {
      Tensor h = patchEmbed.forward(x);
      probe.record("patch_embed", h);
      h = h.add(positionalEmbedding.data());
      return s.keep(trunk(h, ropeTensor(), probe));
    }
  }

  /**
   * MAE-masked forward (training, docs/training.md#mae-masking): the tokens are shuffled by {@code
   * argsort(noise)} per sample (noise (B, L), drawn by the caller so it can be replayed) and only
   * the first {@code lenKeep} are encoded, each with its own position's RoPE rows. The positional
   * embedding is added before masking, as in the reference.
   */
  public MaskedOutput forwardMasked(Tensor x, Tensor noise, int lenKeep) {
    if (lenKeep <= 0 || lenKeep > seqLen) {
      throw new IllegalArgumentException("lenKeep must be in [1, " + seqLen + "], got " + lenKeep);
    }
    try (Scope s = Scope.open()) {
      Tensor h = patchEmbed.forward(x).add(positionalEmbedding.data());
      long b = h.size(0);
      long c = h.size(2);
      Tensor idsShuffle = noise.argsort(1, false);
      Tensor idsRestore = idsShuffle.argsort(1, false);
      Tensor idsKeep = idsShuffle.narrow(1, 0, lenKeep);
      Tensor keep3 = idsKeep.unsqueeze(2);
      Tensor visible = h.gather(1, keep3.expand(b, lenKeep, c));
      Tensor rope = ropeTensor().expand(b, seqLen, ropeTensor().size(2));
      Tensor ropeVisible = rope.gather(1, keep3.expand(b, lenKeep, rope.size(2)));
      // mask: 0 for kept, 1 for masked, in the original token order
      Tensor shuffled =
          Tensor.cat(
              new Tensor[] {
                Tensor.zeros(new long[] {b, lenKeep}, DType.FLOAT32, h.device()),
                Tensor.ones(new long[] {b, seqLen - lenKeep}, DType.FLOAT32, h.device())
              },
              1);
      Tensor mask = shuffled.gather(1, idsRestore);
      Tensor z = trunk(visible, ropeVisible, ActivationProbe.NONE);
      return new MaskedOutput(
          s.keep(z), s.keep(mask), s.keep(idsRestore), s.keep(idsKeep.contiguous()));
    }
  }

  private Tensor trunk(Tensor h, Tensor rope, ActivationProbe probe) {
    try (Scope s = Scope.open()) {
      h = lnPre.forward(h);
      for (int i = 0; i < blocks.size(); i++) {
        h = blocks.get(i).forward(h, rope);
        probe.record("block" + i, h);
      }
      h = lnPost.forward(h);
      probe.record("ln_post", h);
      return s.keep(latentHead.forward(h));
    }
  }

  /**
   * MAE's inverse of the masking shuffle: appends {@code mask} (1, 1, D) for the dropped tokens and
   * gathers all L tokens back into their original order with {@code idsRestore} (B, L).
   */
  static Tensor unshuffleWithMask(Tensor visible, Tensor mask, Tensor idsRestore) {
    try (Scope s = Scope.open()) {
      long b = visible.size(0);
      long full = idsRestore.size(1);
      long width = visible.size(2);
      Tensor all =
          Tensor.cat(new Tensor[] {visible, mask.expand(b, full - visible.size(1), width)}, 1);
      return s.keep(all.gather(1, idsRestore.unsqueeze(2).expand(b, full, width)));
    }
  }
}
