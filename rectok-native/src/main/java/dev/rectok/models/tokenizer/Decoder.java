package dev.rectok.models.tokenizer;

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
 * The ViT pixel decoder ({@code Decoder} of {@code models/rectok.py}): {@code decoder_embed} of
 * each latent token, {@code mask_token} fill-in when training with masking, learned positions,
 * {@code ln_pre}, RoPE blocks, {@code ln_post}, then {@code ffn} = 1x1 conv and depth-to-space in
 * (p1, p2, c) channel order, then a 3x3 {@code conv_out}. Output is in [-1, 1] image space,
 * unclamped.
 *
 * <p>Owns its parameters and the non-persistent {@code rope_tensor}. Eval-mode forward passes may
 * run concurrently; results belong to the caller.
 *
 * <p>Threading and ownership as for every {@link dev.rectok.torch.nn.Module}: concurrent eval-mode
 * forwards are safe; it owns its parameters.
 */
public final class Decoder extends Module {
  private final int grid;
  private final int patch;
  private final Parameter positionalEmbedding;
  private final Parameter maskToken;
  private final Linear decoderEmbed;
  private final RMSNorm lnPre;
  private final List<Block> blocks = new ArrayList<>();
  private final RMSNorm lnPost;
  private final Sequential ffn;
  private final Conv2d convOut;

  public Decoder(RecTokConfig cfg) {
    RecTokConfig.ModelSize size = cfg.decoderSize();
    int width = size.width();
    this.grid = cfg.gridSize();
    this.patch = cfg.patchSize();
    double scale = Math.pow(width, -0.5);
    this.positionalEmbedding =
        registerParameter(
            "positional_embedding", Tensor.zeros(1, cfg.seqLen(), width).normal_(0, scale, null));
    this.maskToken =
        registerParameter("mask_token", Tensor.zeros(1, 1, width).normal_(0, scale, null));
    this.decoderEmbed =
        registerModule("decoder_embed", new Linear(cfg.tokenChannels(), width, true));
    this.lnPre = registerModule("ln_pre", new RMSNorm(width, Block.NORM_EPS));
    ModuleList<Block> transformer = registerModule("transformer", new ModuleList<>());
    for (int i = 0; i < size.layers(); i++) {
      blocks.add(transformer.add(new Block(width, size.heads())));
    }
    this.lnPost = registerModule("ln_post", new RMSNorm(width, Block.NORM_EPS));
    int g = grid;
    int p = patch;
    this.ffn =
        registerModule(
            "ffn",
            new Sequential(
                new Rearrange(
                    "b (h w) c -> b c h w",
                    t -> t.transpose(1, 2).reshape(t.size(0), t.size(2), g, g)),
                new Conv2d(width, (long) p * p * 3, 1, 1, 0),
                // channel index = (p1·p + p2)·3 + c; pixel (c, h·p + p1, w·p + p2)
                new Rearrange(
                    "b (p1 p2 c) h w -> b c (h p1) (w p2)",
                    t ->
                        t.view(t.size(0), p, p, 3, g, g)
                            .permute(0, 3, 4, 1, 5, 2)
                            .reshape(t.size(0), 3, (long) g * p, (long) g * p))));
    this.convOut = registerModule("conv_out", new Conv2d(3, 3, 3, 1, 1));
    // A scope frees the unsqueezed-away table; the buffer itself escapes into the module.
    try (Scope s = Scope.open()) {
      registerBuffer(
          "rope_tensor", TokenizerRope.table(size.headDim(), grid, grid).unsqueeze(0), false);
    }
  }

  /** The decoder's RoPE table (1, L, 2·headDim), borrowed. */
  public Tensor ropeTensor() {
    return buffer("rope_tensor");
  }

  public Parameter maskToken() {
    return maskToken;
  }

  /** Latents (B, L, C) to an image (B, 3, H, W) in [-1, 1] space. */
  public Tensor forward(Tensor z) {
    return forward(z, null, ActivationProbe.NONE);
  }

  /**
   * Forward from the visible latents (B, L_keep, C). With {@code idsRestore} (B, L) the missing
   * tokens are filled with {@code mask_token} and un-shuffled to the original order (training with
   * masking); null means all L tokens are given. Reports {@code decoder_embed}, {@code block<i>},
   * {@code ln_post} and {@code ffn} to {@code probe}.
   */
  public Tensor forward(Tensor zLatents, Tensor idsRestore, ActivationProbe probe) {
    try (Scope s = Scope.open()) {
      Tensor z = decoderEmbed.forward(zLatents);
      probe.record("decoder_embed", z);
      long b = z.size(0);
      if (idsRestore != null) {
        z = Encoder.unshuffleWithMask(z, maskToken.data(), idsRestore);
      }
      z = lnPre.forward(z.add(positionalEmbedding.data()));
      Tensor rope = ropeTensor();
      for (int i = 0; i < blocks.size(); i++) {
        z = blocks.get(i).forward(z, rope);
        probe.record("block" + i, z);
      }
      z = lnPost.forward(z);
      probe.record("ln_post", z);
      Tensor img = ffn.forward(z);
      probe.record("ffn", img);
      return s.keep(convOut.forward(img));
    }
  }
}
