package dev.rectok.models;

import dev.rectok.api.Device;
import dev.rectok.api.Latents;
import dev.rectok.image.AdmPreprocess;
import dev.rectok.image.PixelRange;
import dev.rectok.image.RgbImage;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.models.tokenizer.RecTokConfig;
import dev.rectok.models.tokenizer.TokenizerCheckpoints;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.io.SafeTensorsFile;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * {@link dev.rectok.api.Tokenizer} over a {@link RecTok}: the reference's preprocessing (ADM centre
 * crop with PIL-exact resampling), posterior mean or seeded sample, channel normalization with the
 * latent statistics, and truncating uint8 output.
 *
 * <p>Thread-safe: the model is in eval mode and only read; every call owns its tensors. Owns the
 * model: close the tokenizer after the last call returned.
 */
public final class RecTokTokenizer implements dev.rectok.api.Tokenizer {
  private final RecTok model;
  private final Device device;
  private final boolean hasStatistics;
  private final AdmPreprocess preprocess;
  private final dev.rectok.api.DType compute;

  /**
   * Takes ownership of a loaded {@code model}; {@code hasStatistics} says whether resetStats was
   * given real values.
   */
  public RecTokTokenizer(RecTok model, Device device, boolean hasStatistics) {
    this(model, device, hasStatistics, dev.rectok.api.DType.FLOAT32);
  }

  // --- issue 13: precision ---
  /**
   * Takes ownership of a loaded {@code model} (already on {@code device}) that runs its GEMMs in
   * {@code compute} ({@code FLOAT32}, or {@code BFLOAT16}: the Linear weights are converted here,
   * once, and their float32 originals freed; see {@link dev.rectok.torch.nn.InferencePrecision}).
   */
  public RecTokTokenizer(
      RecTok model, Device device, boolean hasStatistics, dev.rectok.api.DType compute) {
    this.compute = Objects.requireNonNull(compute, "compute");
    if (compute != dev.rectok.api.DType.FLOAT32) {
      // its precision is fixed here, so the float32 copies are dropped: half the weights' memory
      dev.rectok.torch.nn.InferencePrecision.prepareReleasing(model, compute, path -> true);
    }
    this.model = Objects.requireNonNull(model, "model");
    this.device = Objects.requireNonNull(device, "device");
    this.hasStatistics = hasStatistics;
    this.preprocess = new AdmPreprocess(model.config().imgSize());
    model.eval();
  }

  /** Opens a model file written by {@code rectok convert} (see {@link ModelFile}). */
  public static RecTokTokenizer open(Path file, Device device) throws IOException {
    return open(file, device, dev.rectok.api.Precision.FP32);
  }

  /**
   * Opens a model file for inference in {@code precision} (resolved for {@code device} and this CPU
   * by {@link dev.rectok.torch.nn.InferencePrecision#resolve}, before the file is read).
   *
   * @throws IllegalArgumentException when {@code precision} is bf16 and this CPU has no native bf16
   */
  public static RecTokTokenizer open(Path file, Device device, dev.rectok.api.Precision precision)
      throws IOException {
    dev.rectok.api.DType compute =
        dev.rectok.torch.nn.InferencePrecision.resolve(precision, device);
    DeviceCheck.requireAvailable(device); // issue 10: before the model is loaded
    try (SafeTensorsFile f = ModelFile.open(file)) {
      ModelFile.Header h = ModelFile.header(f);
      RecTokConfig config = h.tokenizerConfig();
      RecTok model = new RecTok(config);
      try {
        TokenizerCheckpoints.load(model, file);
        if (h.hasStatistics()) {
          try (Scope s = Scope.open()) {
            model.resetStats(Tensor.of(h.latentMean()), Tensor.of(h.latentStd()));
          }
        }
        if (device.isCuda()) {
          model.to(null, device);
        }
        return new RecTokTokenizer(model, device, h.hasStatistics(), compute);
      } catch (IOException | RuntimeException e) {
        model.close();
        throw e;
      }
    }
  }

  /** The underlying model (borrowed). */
  public RecTok model() {
    return model;
  }

  /** The dtype its GEMMs run in: {@code FLOAT32} or {@code BFLOAT16}. */
  public dev.rectok.api.DType computeDtype() {
    return compute;
  }

  /** Whether latent statistics are loaded (needed for normalized latents and generation). */
  @Override
  public boolean hasStatistics() {
    return hasStatistics;
  }

  @Override
  public int imageSize() {
    return model.config().imgSize();
  }

  @Override
  public int[] latentShape() {
    int g = model.config().gridSize();
    return new int[] {model.config().tokenChannels(), g, g};
  }

  private void requireStatistics() {
    if (!hasStatistics) {
      throw new IllegalStateException(
          "this tokenizer has no latent statistics: compute them with "
              + "'rectok stats --tokenizer MODEL --images DIR' and embed them with 'rectok convert ... --stats STATS'");
    }
  }

  @Override
  public Latents encode(List<BufferedImage> images, boolean sample, long seed, boolean normalize) {
    if (images.isEmpty()) {
      throw new IllegalArgumentException("no images to encode");
    }
    if (normalize) {
      requireStatistics(); // before the work of preprocessing
    }
    int[] shape = latentShape();
    for (int i = 0; i < images.size(); i++) {
      BufferedImage img = Objects.requireNonNull(images.get(i), "image");
      try {
        dev.rectok.image.ImageLimits.check("image " + i, img.getWidth(), img.getHeight());
      } catch (IOException e) {
        throw new IllegalArgumentException(
            e.getMessage(), e); // an in-memory image: bad input, not IO
      }
    }
    try (Scope s = Scope.open()) {
      // One copy per image into native memory; the batch is assembled there.
      Tensor[] parts = new Tensor[images.size()];
      for (int i = 0; i < parts.length; i++) {
        parts[i] =
            preprocess.apply(AdmPreprocess.toRgb(Objects.requireNonNull(images.get(i), "image")));
      }
      Tensor z = encodeTensor(Tensor.cat(parts, 0), sample, seed, normalize);
      return new Latents(z.toFloatArray(), images.size(), shape[0], shape[1], shape[2], normalize);
    }
  }

  /**
   * Tensor form of {@link #encode}: preprocessed images (B, 3, S, S) in [-1, 1] (any device) to
   * latents (B, C, h, w) on this tokenizer's device, owned by the caller (or the current scope).
   */
  public Tensor encodeTensor(Tensor images, boolean sample, long seed, boolean normalize) {
    if (normalize) {
      requireStatistics();
    }
    int[] shape = latentShape();
    long b = images.size(0);
    try (Scope s = Scope.open();
        GradMode g = GradMode.inferenceMode();
        var p = dev.rectok.torch.nn.InferencePrecision.use(compute);
        TorchGenerator gen = sample ? TorchGenerator.create(device, seed) : null) {
      Tensor x = images.to(device);
      if (normalize) {
        return s.keep(model.tokenize(x, sample, gen));
      }
      try (RecTok.Encoding e = model.encode(x, sample, gen)) {
        // (B, h*w, C) -> (B, C, h, w), as tokenize lays them out
        return s.keep(e.zLatents().transpose(1, 2).reshape(b, shape[0], shape[1], shape[2]));
      }
    }
  }

  /**
   * Tensor form of {@link #decode}: latents (B, C, h, w), channel-normalized or raw, to images (B,
   * 3, S, S) in [0, 1], owned by the caller (or the current scope).
   */
  public Tensor decodeTensor(Tensor latents, boolean normalized) {
    if (normalized) {
      requireStatistics();
    }
    try (Scope s = Scope.open();
        GradMode g = GradMode.inferenceMode();
        var p = dev.rectok.torch.nn.InferencePrecision.use(compute)) {
      Tensor z = latents.to(device);
      if (normalized) {
        return s.keep(model.detokenize(z));
      }
      Tensor tokens = z.reshape(z.size(0), z.size(1), -1).transpose(1, 2);
      return s.keep(PixelRange.toUnitClamped(model.decoder(tokens)));
    }
  }

  @Override
  public List<BufferedImage> decode(Latents latents) {
    int[] shape = latentShape();
    if (latents.channels() != shape[0]
        || latents.height() != shape[1]
        || latents.width() != shape[2]) {
      throw new IllegalArgumentException(
          "latents of shape "
              + latents
              + " do not fit this tokenizer's "
              + shape[0]
              + "x"
              + shape[1]
              + "x"
              + shape[2]);
    }
    // --- issue 10: NaN or infinite latents decode to black images; refuse them instead ---
    float[] values = latents.values();
    int bad = dev.rectok.torch.io.FiniteValues.firstNonFinite(values);
    if (bad >= 0) {
      int per = latents.channels() * latents.height() * latents.width();
      throw new IllegalArgumentException(
          "the latents hold a non-finite value ("
              + values[bad]
              + " in sample "
              + bad / per
              + " at index "
              + bad % per
              + "); they would decode to garbage, so they are refused");
    }
    if (latents.batch() == 0) {
      throw new IllegalArgumentException("the latents hold no samples: nothing to decode");
    }
    try (Scope s = Scope.open()) {
      return toImages(decodeTensor(Tensor.of(values, latents.shape()), latents.normalized()));
    }
  }

  /**
   * Images (B, 3, S, S) in [0, 1] as RGB {@link BufferedImage}s, with the reference's to_uint8
   * (×255, truncated).
   */
  public static List<BufferedImage> toImages(Tensor images01) {
    try (Scope s = Scope.open()) {
      byte[] hwc = RecTok.toUint8(images01).toByteArray();
      int size = (int) images01.size(2);
      int per = size * size * 3;
      int b = (int) images01.size(0);
      List<BufferedImage> out = new ArrayList<>(b);
      for (int i = 0; i < b; i++) {
        out.add(
            AdmPreprocess.toBufferedImage(
                new RgbImage(
                    size, size, java.util.Arrays.copyOfRange(hwc, i * per, (i + 1) * per))));
      }
      return out;
    }
  }

  @Override
  public List<BufferedImage> read(List<Path> files) throws IOException {
    List<BufferedImage> out = new ArrayList<>(files.size());
    for (Path f : files) {
      out.add(AdmPreprocess.toBufferedImage(AdmPreprocess.read(f)));
    }
    return out;
  }

  @Override
  public void close() {
    model.close();
  }
}
