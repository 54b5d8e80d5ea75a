package dev.rectok.models.tokenizer;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.image.PixelRange;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.nn.Init;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.nn.ModuleDict;

/**
 * The RecTok tokenizer ({@code models/rectok.py} {@code RecTok}): {@link Encoder}, {@link Decoder},
 * optionally the stage-1 {@link SemanticDecoder} under {@code sem_decoders.<foundation model>}, and
 * the latent normalization statistics {@code mean}/{@code std} (non-persistent buffers, set by
 * {@link #resetStats}; docs/tokenizer.md#latent-statistics).
 *
 * <p>The inference data flow follows docs/tokenizer.md#inference-flow: {@link #tokenize} = encoder
 * → posterior mean → {@code (z − mean)·scale/std} → (B, C, h, w); {@link #detokenize} = the inverse
 * reshape → {@code z·std/scale + mean} → decoder → {@code clamp(x·0.5 + 0.5, 0, 1)}.
 *
 * <p><b>Ownership.</b> Owns every parameter and buffer; close it. Every returned tensor is new and
 * belongs to the caller (or the current {@link Scope}). Inputs are borrowed.
 *
 * <p><b>Threading.</b> Build, load and {@link #resetStats} on one thread. Afterwards concurrent
 * eval-mode calls are safe: they only read the parameters.
 */
public final class RecTok extends Module {
  private final RecTokConfig config;
  private final Encoder encoder;
  private final Decoder decoder;
  private final SemanticDecoder semanticDecoder;

  /** Builds the model for {@code config} with freshly initialized weights, in eval mode. */
  public RecTok(RecTokConfig config) {
    this.config = config;
    this.encoder = registerModule("encoder", new Encoder(config));
    this.decoder = registerModule("decoder", new Decoder(config));
    if (config.hasSemanticDecoder()) {
      ModuleDict<SemanticDecoder> sem = registerModule("sem_decoders", new ModuleDict<>());
      this.semanticDecoder = sem.put(config.foundationModelType(), new SemanticDecoder(config));
    } else {
      this.semanticDecoder = null;
    }
    // The scope frees the float64 scalars; the float32 buffers escape into the module.
    try (Scope s = Scope.open()) {
      registerBuffer("mean", Tensor.scalar(config.mean()).to(DType.FLOAT32), false);
      registerBuffer("std", Tensor.scalar(config.std()).to(DType.FLOAT32), false);
    }
    eval();
  }

  public RecTokConfig config() {
    return config;
  }

  public Encoder encoder() {
    return encoder;
  }

  public Decoder decoderModule() {
    return decoder;
  }

  /** The stage-1 semantic decoder, or null for the generator-side model. */
  public SemanticDecoder semanticDecoder() {
    return semanticDecoder;
  }

  /**
   * The reference's {@code _init_weights} for training from scratch: Linear and Conv weights
   * trunc-normal(0, 0.02) in [-2, 2], biases zero. Like the reference it covers the encoder and
   * decoder only: the semantic decoder is created after the init runs and keeps its default
   * initialization (docs/quirks.md#semantic-decoder-init).
   */
  public void initWeights(TorchGenerator gen) {
    try (GradMode g = GradMode.noGrad()) {
      Init.truncNormalLinearsAndConvs_(encoder, gen);
      Init.truncNormalLinearsAndConvs_(decoder, gen);
    }
  }

  /**
   * {@code reset_stats(mean, std)} with per-channel (C) tensors (stored as (1, 1, C)) or 0-dim
   * tensors (global values). The tensors are copied.
   */
  public void resetStats(Tensor mean, Tensor std) {
    try (Scope s = Scope.open()) {
      replaceBuffer("mean", statShape(mean));
      replaceBuffer("std", statShape(std));
    }
  }

  /** {@code reset_stats} with one global mean and std. */
  public void resetStats(double mean, double std) {
    try (Scope s = Scope.open()) {
      replaceBuffer("mean", Tensor.scalar(mean).to(DType.FLOAT32));
      replaceBuffer("std", Tensor.scalar(std).to(DType.FLOAT32));
    }
  }

  private static Tensor statShape(Tensor t) {
    if (t.dim() == 0) {
      return t.to(DType.FLOAT32).clone();
    }
    long c = t.size(t.dim() - 1);
    if (t.numel() != c) {
      throw new IllegalArgumentException(
          "statistics must be 0-dim or per channel, got " + java.util.Arrays.toString(t.shape()));
    }
    return t.reshape(1, 1, c).to(DType.FLOAT32).clone();
  }

  /** The latent mean buffer (borrowed): 0-dim or (1, 1, C). */
  public Tensor latentMean() {
    return buffer("mean");
  }

  /** The latent std buffer (borrowed): 0-dim or (1, 1, C). */
  public Tensor latentStd() {
    return buffer("std");
  }

  /** {@code tok.encoder(x)['z']}: the raw, unclamped encoder output (B, L, 2C). */
  public Tensor encoderZ(Tensor x) {
    return encoder.forward(x);
  }

  /**
   * What {@link #encode} returns; owns its tensors. {@code posterior} is null with {@code
   * disable_kl}.
   */
  public record Encoding(Tensor zLatents, Posterior posterior) implements AutoCloseable {
    @Override
    public void close() {
      zLatents.close();
      if (posterior != null) {
        posterior.close();
      }
    }
  }

  /**
   * {@code encode(x, sampling)} without masking or latent noise (the inference path): latents =
   * posterior mean, or a sample {@code mean + std·ε} with ε drawn from {@code gen}.
   */
  public Encoding encode(Tensor x, boolean sampling, TorchGenerator gen) {
    try (Scope s = Scope.open()) {
      Tensor z = encoder.forward(x);
      if (config.disableKl()) {
        return new Encoding(s.keep(z), null);
      }
      Posterior p = Posterior.of(z);
      Tensor latents = sampling ? p.sample(gen) : p.mode();
      s.keep(latents);
      s.keep(p.parameters());
      s.keep(p.mean());
      s.keep(p.logvar());
      s.keep(p.std());
      s.keep(p.var());
      return new Encoding(latents, p);
    }
  }

  /** {@code tok.decoder(z)}: latents (B, L, C) to an image in [-1, 1] space, unclamped. */
  public Tensor decoder(Tensor z) {
    return decoder.forward(z);
  }

  /** {@code (z − mean)·scale_factor / std}. */
  public Tensor normalizeZ(Tensor z) {
    try (Scope s = Scope.open()) {
      return s.keep(
          z.sub(latentMean().to(z.dtype(), z.device()))
              .mul(config.scaleFactor())
              .div(latentStd().to(z.dtype(), z.device())));
    }
  }

  /** {@code z·std / scale_factor + mean}. */
  public Tensor denormalizeZ(Tensor z) {
    try (Scope s = Scope.open()) {
      return s.keep(
          z.mul(latentStd().to(z.dtype(), z.device()))
              .div(config.scaleFactor())
              .add(latentMean().to(z.dtype(), z.device())));
    }
  }

  /** {@code tokenize(x)}: normalized posterior means as (B, C, h, w). */
  public Tensor tokenize(Tensor x) {
    return tokenize(x, false, null);
  }

  /** {@code tokenize(x, sampling)}; sampled latents draw from {@code gen}. */
  public Tensor tokenize(Tensor x, boolean sampling, TorchGenerator gen) {
    try (Scope s = Scope.open()) {
      Tensor z;
      try (Encoding e = encode(x, sampling, gen)) {
        z = normalizeZ(e.zLatents());
      }
      long b = z.size(0);
      long c = z.size(2);
      int g = config.gridSize();
      // "b (h w) c -> b c h w"
      return s.keep(z.transpose(1, 2).reshape(b, c, g, g));
    }
  }

  /** {@code detokenize(tokens)}: (B, C, h, w) to images in [0, 1], (B, 3, H, W). */
  public Tensor detokenize(Tensor tokens) {
    try (Scope s = Scope.open()) {
      long b = tokens.size(0);
      long c = tokens.size(1);
      // "b c h w -> b (h w) c"
      Tensor z = denormalizeZ(tokens.reshape(b, c, -1).transpose(1, 2));
      Tensor img = decoder.forward(z);
      return s.keep(PixelRange.toUnitClamped(img));
    }
  }

  /** {@code reconstruct(x)} = {@code detokenize(tokenize(x))}: images in [0, 1]. */
  public Tensor reconstruct(Tensor x) {
    try (Scope s = Scope.open()) {
      return s.keep(detokenize(tokenize(x)));
    }
  }

  /**
   * {@code to_uint8_numpy}: {@code (x·255)} cast to uint8 (truncation, not rounding), NCHW → NHWC.
   */
  public static Tensor toUint8(Tensor images01) {
    try (Scope s = Scope.open()) {
      return s.keep(
          images01.mul(255.0).permute(0, 2, 3, 1).to(DType.UINT8, Device.CPU).contiguous());
    }
  }
}
