package dev.rectok.models.tokenizer;

import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.nn.Linear;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.ModuleList;
import dev.rectok.torch.nn.Parameter;
import dev.rectok.torch.nn.RMSNorm;
import java.util.ArrayList;
import java.util.List;

/**
 * The stage-1 semantic decoder ({@code TransformerDecoder} of {@code models/rectok.py},
 * docs/tokenizer.md#semantic-decoder), registered as {@code sem_decoders.<foundation model>}:
 * {@code token_embedding} of the (noisy) visible latents, {@code mask_embedding} at masked
 * positions, learned positions, {@code ln_pre}, RoPE blocks, {@code ln_post}, {@code out}
 * projecting to the foundation model's hidden size for every token. Training only; discarded after
 * training.
 *
 * <p>Owns its parameters and the non-persistent {@code rope_tensor}. Not for concurrent training;
 * eval-mode forward passes may run concurrently.
 *
 * <p>Threading and ownership as for every {@link dev.rectok.torch.nn.Module}: concurrent eval-mode
 * forwards are safe; it owns its parameters.
 */
public final class SemanticDecoder extends Module {
  private final Parameter positionalEmbedding;
  private final Parameter maskEmbedding;
  private final Linear tokenEmbedding;
  private final RMSNorm lnPre;
  private final List<Block> blocks = new ArrayList<>();
  private final RMSNorm lnPost;
  private final Linear out;

  public SemanticDecoder(RecTokConfig cfg) {
    RecTokConfig.ModelSize size = cfg.semanticSize();
    int width = size.width();
    int grid = cfg.gridSize();
    this.positionalEmbedding =
        registerParameter(
            "positional_embedding",
            Tensor.zeros(1, cfg.seqLen(), width).normal_(0, Math.pow(width, -0.5), null));
    // zero-initialized in the reference
    this.maskEmbedding = registerParameter("mask_embedding", Tensor.zeros(1, 1, width));
    this.tokenEmbedding =
        registerModule("token_embedding", new Linear(cfg.tokenChannels(), width, true));
    this.lnPre = registerModule("ln_pre", new RMSNorm(width, Block.NORM_EPS));
    ModuleList<Block> transformer = registerModule("transformer", new ModuleList<>());
    for (int i = 0; i < size.layers(); i++) {
      blocks.add(transformer.add(new Block(width, size.heads())));
    }
    this.lnPost = registerModule("ln_post", new RMSNorm(width, Block.NORM_EPS));
    this.out = registerModule("out", new Linear(width, cfg.foundationHiddenSize(), true));
    // A scope frees the unsqueezed-away table; the buffer itself escapes into the module.
    try (Scope s = Scope.open()) {
      registerBuffer(
          "rope_tensor", TokenizerRope.table(size.headDim(), grid, grid).unsqueeze(0), false);
    }
  }

  /**
   * Visible latents (B, L_keep, C) and, when masking was used, {@code idsRestore} (B, L) to
   * features (B, L, hidden).
   */
  public Tensor forward(Tensor zVisible, Tensor idsRestore) {
    return forward(zVisible, idsRestore, ActivationProbe.NONE);
  }

  /**
   * As {@link #forward(Tensor, Tensor)}, reporting {@code token_embedding}, {@code block<i>} and
   * {@code ln_post}.
   */
  public Tensor forward(Tensor zVisible, Tensor idsRestore, ActivationProbe probe) {
    try (Scope s = Scope.open()) {
      Tensor x = tokenEmbedding.forward(zVisible);
      probe.record("token_embedding", x);
      if (idsRestore != null) {
        x = Encoder.unshuffleWithMask(x, maskEmbedding.data(), idsRestore);
      }
      x = lnPre.forward(x.add(positionalEmbedding.data()));
      Tensor rope = buffer("rope_tensor");
      for (int i = 0; i < blocks.size(); i++) {
        x = blocks.get(i).forward(x, rope);
        probe.record("block" + i, x);
      }
      x = lnPost.forward(x);
      probe.record("ln_post", x);
      return s.keep(out.forward(x));
    }
  }
}
