package dev.rectok.models.dit;

import dev.rectok.models.dit.DiTLayers.Block;
import dev.rectok.models.dit.DiTLayers.FinalLayer;
import dev.rectok.models.dit.DiTLayers.GaussianFourierEmbedding;
import dev.rectok.models.dit.DiTLayers.LabelEmbedder;
import dev.rectok.models.dit.DiTLayers.PatchEmbed;
import dev.rectok.models.dit.DiTLayers.Rope;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.Init;
import dev.rectok.torch.nn.Linear;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.ModuleList;
import dev.rectok.torch.nn.Parameter;
import java.util.Arrays;
import java.util.List;

/**
 * DiT^DH, the generator of RecTok ({@code models/DDT.py DiTwDDTHead}): a DiT "s-path" over the
 * latent tokens conditioned on time and class, and a wide DDT head over the same tokens conditioned
 * per token on the s-path's output. {@link #forward(Tensor, Tensor, Tensor)} is the reference's
 * {@code net(x, t, y)}: it maps a latent {@code x} (B, C, h, w), flow times {@code t} (B) in [0, 1]
 * (0 = noise, 1 = data) and int64 labels {@code y} (B) (the null class {@code num_classes} for CFG)
 * to the predicted velocity (B, C, h, w).
 *
 * <p>State-dict keys and shapes are the reference's ({@link DiTConfig#stateDictLayout()}): {@code
 * pos_embed} (fixed 2D sincos, column first) and {@code t_embedder.W} are frozen parameters; the
 * RoPE tables {@code enc_feat_rope.*} / {@code dec_feat_rope.*} are persistent buffers that are
 * recomputed rather than loaded. Load weights with {@link DiTCheckpoints}.
 *
 * <p><b>Ownership.</b> The module owns its parameters and buffers; {@link #close()} frees them.
 * Results of {@code forward} belong to the caller (or the caller's open {@link Scope}).
 *
 * <p><b>Threading.</b> Build and load on one thread. Afterwards, concurrent forward passes in eval
 * mode are safe (they only read). Training-mode forwards draw label dropout from a generator and
 * must not share it across threads; {@code train}/{@code eval}/loading must not overlap with any
 * other use.
 */
public final class DiTwDDTHead extends Module {

  /**
   * Receives named intermediate tensors during a forward pass, for parity checks: the names are
   * those of the golden files' {@code debug.*} tensors ({@code t_embedder}, {@code y_embedder},
   * {@code s_embedder}, {@code blocks<i>_enc}, {@code s_projector}, {@code x_embedder}, {@code
   * blocks<i>_head}, {@code final_layer}). The tensors are borrowed and valid only during the call:
   * read or copy them there.
   */
  @FunctionalInterface
  public interface Tracer {
    void record(String name, Tensor value);
  }

  private static final Tracer NO_TRACE = (n, v) -> {};

  private final DiTConfig config;
  private final Parameter posEmbed;
  private final PatchEmbed xEmbedder;
  private final PatchEmbed sEmbedder;
  private final Linear sProjector;
  private final GaussianFourierEmbedding tEmbedder;
  private final LabelEmbedder yEmbedder;
  private final FinalLayer finalLayer;
  private final Rope encFeatRope;
  private final Rope decFeatRope;
  private final ModuleList<Block> blocks;

  /**
   * Builds the network with the reference's initialisation, drawing from LibTorch's default
   * generator.
   */
  public DiTwDDTHead(DiTConfig config) {
    this(config, null);
  }

  /**
   * Builds the network with the reference's initialisation ({@code initialize_weights}: PyTorch
   * defaults for linears, xavier patch embeddings, N(0, 0.02) label table and time MLP, zeroed
   * adaLN and output layers, sincos {@code pos_embed}, N(0, 1) {@code t_embedder.W}), drawing from
   * {@code gen} (null: LibTorch's default generator).
   */
  public DiTwDDTHead(DiTConfig config, TorchGenerator gen) {
    this.config = config;
    int de = config.encoderHiddenSize();
    int dd = config.decoderHiddenSize();
    int grid = config.inputSize();
    // Registration order is the reference's, so state_dict() lists keys in its order.
    posEmbed =
        config.usePosEmbed()
            ? registerParameter(
                "pos_embed", new Parameter(DiTTables.sincosPosEmbedTensor(de, grid), false))
            : null;
    xEmbedder = registerModule("x_embedder", new PatchEmbed(config.tokenChannels(), dd));
    sEmbedder = registerModule("s_embedder", new PatchEmbed(config.tokenChannels(), de));
    // With equal widths the reference uses nn.Identity, which has no state.
    sProjector = de != dd ? registerModule("s_projector", new Linear(de, dd, true)) : null;
    tEmbedder =
        registerModule(
            "t_embedder", new GaussianFourierEmbedding(de, DiTConfig.FOURIER_EMBEDDING_SIZE));
    yEmbedder =
        registerModule(
            "y_embedder", new LabelEmbedder(config.numClasses(), de, config.labelDropoutProb()));
    finalLayer =
        registerModule(
            "final_layer", new FinalLayer(dd, config.tokenChannels(), config.useRmsnorm()));
    encFeatRope = registerModule("enc_feat_rope", new Rope(config.encoderHeadDim(), grid));
    decFeatRope = registerModule("dec_feat_rope", new Rope(config.decoderHeadDim(), grid));
    blocks = registerModule("blocks", new ModuleList<>());
    int total = config.numEncoderBlocks() + config.numDecoderBlocks();
    for (int i = 0; i < total; i++) {
      boolean enc = i < config.numEncoderBlocks();
      blocks.add(new Block(enc ? de : dd, config.numHeads().get(enc ? 0 : 1), config));
    }
    initializeWeights(gen);
  }

  /** The configuration this network was built from. */
  public DiTConfig config() {
    return config;
  }

  /**
   * Re-draws every parameter as the reference's constructor does (see the constructor). The frozen
   * {@code pos_embed} is reset to its sincos values.
   */
  public void initializeWeights(TorchGenerator gen) {
    resetRecursively(this, gen);
    try (GradMode g = GradMode.noGrad()) {
      // t_embedder.W ~ N(0, scale=1): random but fixed; a checkpoint must supply it.
      Init.normal_(tEmbedder.w.data(), 0, 1, gen);
      // Patch embeddings like nn.Linear: xavier on (out, in*k*k), zero bias (a 1x1 kernel has the
      // same fans).
      for (PatchEmbed p : new PatchEmbed[] {xEmbedder, sEmbedder}) {
        Init.xavierUniform_(p.proj.weight().data(), 1.0, gen);
        Init.zeros_(p.proj.bias().data());
      }
      Init.normal_(yEmbedder.embeddingTable.weight().data(), 0, 0.02, gen);
      if (posEmbed != null) {
        try (Tensor table =
            DiTTables.sincosPosEmbedTensor(config.encoderHiddenSize(), config.inputSize())) {
          posEmbed.copyFrom(table);
        }
      }
      for (int i = 0; i < blocks.size(); i++) {
        Linear m = blocks.get(i).modulationLinear();
        Init.zeros_(m.weight().data());
        Init.zeros_(m.bias().data());
      }
      Init.normal_(((Linear) tEmbedder.mlp.get(0)).weight().data(), 0, 0.02, gen);
      Init.normal_(((Linear) tEmbedder.mlp.get(2)).weight().data(), 0, 0.02, gen);
      Linear fm = finalLayer.modulationLinear();
      Init.zeros_(fm.weight().data());
      Init.zeros_(fm.bias().data());
      Init.zeros_(finalLayer.linear.weight().data());
      Init.zeros_(finalLayer.linear.bias().data());
    }
  }

  private static void resetRecursively(Module m, TorchGenerator gen) {
    m.resetParameters(gen);
    m.children().values().forEach(c -> resetRecursively(c, gen));
  }

  /**
   * State-dict keys that are recomputed from the configuration instead of loaded (the RoPE tables).
   */
  public List<String> recomputedKeys() {
    return List.of(
        "enc_feat_rope.freqs_cos",
        "enc_feat_rope.freqs_sin",
        "dec_feat_rope.freqs_cos",
        "dec_feat_rope.freqs_sin");
  }

  /** Recomputes the RoPE tables on their current device and dtype. */
  public void recomputeBuffers() {
    encFeatRope.recompute();
    decFeatRope.recompute();
  }

  /**
   * The reference's {@code net(x, t, y)}: predicted velocity (B, C, h, w). In training mode the
   * labels are dropped to the null class with {@code label_dropout_prob}, drawing from LibTorch's
   * default generator.
   */
  public Tensor forward(Tensor x, Tensor t, Tensor y) {
    return forward(x, t, y, null, NO_TRACE);
  }

  /**
   * {@link #forward(Tensor, Tensor, Tensor)} with the generator for training-time label dropout
   * (null: LibTorch's default) and a {@link Tracer} that sees every named intermediate.
   */
  public Tensor forward(Tensor x, Tensor t, Tensor y, TorchGenerator gen, Tracer trace) {
    long[] xs = x.shape();
    int grid = config.inputSize();
    if (xs.length != 4 || xs[1] != config.tokenChannels() || xs[2] != grid || xs[3] != grid) {
      throw new IllegalArgumentException(
          "x must be (B, "
              + config.tokenChannels()
              + ", "
              + grid
              + ", "
              + grid
              + "), got "
              + Arrays.toString(xs));
    }
    if (t.dim() != 1 || y.dim() != 1 || t.size(0) != xs[0] || y.size(0) != xs[0]) {
      throw new IllegalArgumentException(
          "t and y must be (B,) with B = "
              + xs[0]
              + ", got t "
              + Arrays.toString(t.shape())
              + ", y "
              + Arrays.toString(y.shape()));
    }
    try (Scope s = Scope.open()) {
      // 1-3. time and class conditioning: c = silu(t_emb + y_emb)
      Tensor tEmb = tEmbedder.forward(t);
      trace.record("t_embedder", tEmb);
      Tensor yEmb = yEmbedder.forward(y, isTraining(), gen);
      trace.record("y_embedder", yEmb);
      Tensor c = tEmb.add(yEmb).silu();
      // 4. s-path tokens plus the fixed sincos positions
      Tensor sTok = sEmbedder.forward(x);
      trace.record("s_embedder", sTok);
      Tensor h = posEmbed != null ? sTok.add(posEmbed.data()) : sTok;
      // 5. s-path blocks. Each block's adaLN_modulation starts with a SiLU of c (the double
      // SiLU); all blocks see the same c, so that SiLU is computed once.
      Tensor cAct = c.silu();
      for (int i = 0; i < config.numEncoderBlocks(); i++) {
        Tensor next = blocks.get(i).forward(h, cAct, encFeatRope);
        // Free each block's input now rather than at scope end, so a 30-block pass holds one
        // activation, not thirty (autograd keeps its own references to what backward needs).
        h.close();
        h = next;
        trace.record("blocks" + i + "_enc", h);
      }
      // 6-7. s = silu(t_emb + s), with the raw t_emb (not c), then the projector to the head width
      Tensor sAct = tEmb.unsqueeze(1).add(h).silu();
      h.close();
      Tensor cond = sProjector != null ? sProjector.forward(sAct) : sAct;
      trace.record("s_projector", cond);
      // 8-9. the DDT head over fresh x tokens (no positional embedding), conditioned per token
      Tensor xTok = xEmbedder.forward(x);
      trace.record("x_embedder", xTok);
      Tensor z = xTok;
      Tensor condAct =
          cond.silu(); // adaLN's SiLU(s), shared by the head blocks and the final layer
      for (int i = config.numEncoderBlocks(); i < blocks.size(); i++) {
        Tensor next = blocks.get(i).forward(z, condAct, decFeatRope);
        z.close();
        z = next;
        trace.record("blocks" + i + "_head", z);
      }
      // 10. final adaLN layer conditioned on s
      Tensor out = finalLayer.forward(z, condAct);
      trace.record("final_layer", out);
      // 11. unpatchify (p = 1): token n = h*W + w -> out[:, :, h, w]
      return s.keep(
          out.transpose(1, 2).reshape(xs[0], config.tokenChannels(), grid, grid).contiguous());
    }
  }
}
