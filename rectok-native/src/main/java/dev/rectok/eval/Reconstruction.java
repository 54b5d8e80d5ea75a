package dev.rectok.eval;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.api.Progress;
import dev.rectok.image.AdmPreprocess;
import dev.rectok.image.PixelRange;
import dev.rectok.models.RecTokTokenizer;
import dev.rectok.models.inception.InceptionV3;
import dev.rectok.models.inception.InceptionV3.Feature;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The reference's tokenizer evaluation ({@code run_eval_tokenizer.sh}): every image is ADM
 * centre-cropped to the tokenizer's size, encoded (posterior mean) and decoded; PSNR is computed
 * per image on [0, 1] floats (reconstruction clamped, before quantisation) and averaged; the
 * reconstructions are quantised as the reference does ({@code (clamp(x, 0, 1) · 255)} truncated to
 * uint8) and their Inception statistics give the rFID against the statistics of the centre-cropped
 * originals. Stateless; thread-safe.
 */
public final class Reconstruction {
  private Reconstruction() {}

  /**
   * The outcome.
   *
   * @param rfid FID of the reconstructions against the reference statistics
   * @param psnr mean per-image PSNR in dB
   * @param images images evaluated
   * @param statistics the reconstructions' Inception statistics
   */
  public record Report(
      double rfid, double psnr, int images, FrechetDistance.Statistics statistics) {}

  /** Image files under {@code dir}, searched recursively, sorted by path. */
  public static List<Path> imageFiles(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new java.nio.file.NoSuchFileException(dir.toString(), null, "not an image folder");
    }
    try (Stream<Path> s = Files.walk(dir)) {
      List<Path> files =
          s.filter(
                  p -> {
                    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                    return Files.isRegularFile(p)
                        && (n.endsWith(".png")
                            || n.endsWith(".jpg")
                            || n.endsWith(".jpeg")
                            || n.endsWith(".jpeg")
                            || n.endsWith(".bmp"));
                  })
              .sorted()
              .toList();
      if (files.isEmpty()) {
        throw new IOException(dir + " has no .png/.jpg images");
      }
      return files;
    }
  }

  /**
   * Runs the protocol over {@code files} (at most {@code limit} when positive) against {@code
   * reference} statistics.
   */
  public static Report run(
      RecTokTokenizer tok,
      InceptionV3 net,
      List<Path> files,
      FrechetDistance.Statistics reference,
      Fid.Protocol protocol,
      int batch,
      Progress progress)
      throws IOException {
    if (files.size() < 2) {
      throw new IllegalArgumentException("rFID needs at least 2 images, got " + files.size());
    }
    AdmPreprocess pre = new AdmPreprocess(tok.imageSize());
    FrechetDistance.Accumulator acc = new FrechetDistance.Accumulator();
    double[] psnrSum = {0};
    progress.start("reconstruct + Inception", files.size());
    // a chunk's result: its pool features (n x 2048) then its per-image float32 MSEs, so that the
    // ranks of an evaluation job (EvalParallel) split the images and the sums keep their order
    EvalParallel.forEachChunk(
        Math.ceilDiv(files.size(), batch),
        batch,
        2048 + 1,
        (c, mine) -> {
          if (!mine) {
            return null;
          }
          int from = c * batch;
          List<Path> part = files.subList(from, Math.min(files.size(), from + batch));
          try (Scope s = Scope.open()) {
            Tensor x;
            try {
              x = pre.applyAll(new ArrayList<>(part));
            } catch (IOException e) {
              throw new IOException(
                  "cannot read an image of " + part.getFirst().getParent() + ": " + e.getMessage(),
                  e);
            }
            Tensor rec =
                tok.decodeTensor(tok.encodeTensor(x, false, 0, false), false).to(Device.CPU);
            Tensor orig = PixelRange.toUnit(x.to(Device.CPU));
            float[] mse = rec.sub(orig).pow(2).mean(new long[] {1, 2, 3}, false).toFloatArray();
            Tensor u8 = rec.mul(255.0).to(DType.UINT8).contiguous();
            float[] f =
                net.features(u8, EnumSet.of(Feature.F2048)).get(Feature.F2048).toFloatArray();
            float[] v = java.util.Arrays.copyOf(f, f.length + mse.length);
            System.arraycopy(mse, 0, v, f.length, mse.length);
            return new EvalParallel.Chunk(v, part.size(), 0);
          }
        },
        (c, r) -> {
          int n = r.n();
          try (Scope s = Scope.open()) {
            acc.add(Tensor.of(java.util.Arrays.copyOf(r.values(), n * 2048), n, 2048));
          }
          for (int i = 0; i < n; i++) {
            double m = r.values()[n * 2048 + i];
            psnrSum[0] += -10 * Math.log10(Math.max(m, 1e-10));
          }
          progress.update(Math.min(files.size(), (c + 1) * batch), "");
        });
    progress.end();
    FrechetDistance.Statistics st = Fid.withFloat32Mean(acc.statistics());
    if (st.dim() != reference.dim()) {
      throw new IllegalArgumentException(
          "the reference statistics are "
              + reference.dim()
              + "-dimensional, the Inception pool features 2048-dimensional");
    }
    return new Report(
        Fid.distance(st, reference, protocol), psnrSum[0] / files.size(), files.size(), st);
  }

  /**
   * Inception statistics of the ADM centre crops ({@code size}×{@code size}) of {@code files}, the
   * way the reference's {@code val_fid_statistics_file_256.npz} is made (what {@code rectok eval
   * stats --crop 256} computes). The mean is rounded to float32 as the references keep it.
   */
  public static FrechetDistance.Statistics croppedStatistics(
      InceptionV3 net, List<Path> files, int size, int batch, Progress progress)
      throws IOException {
    AdmPreprocess pre = new AdmPreprocess(size);
    FrechetDistance.Accumulator acc = new FrechetDistance.Accumulator();
    progress.start("Inception statistics of " + size + "x" + size + " centre crops", files.size());
    int hw = size * size;
    EvalParallel.forEachChunk(
        Math.ceilDiv(files.size(), batch),
        batch,
        2048,
        (c, mine) -> {
          if (!mine) {
            return null;
          }
          List<Path> part = files.subList(c * batch, Math.min(files.size(), (c + 1) * batch));
          byte[] nchw = new byte[part.size() * 3 * hw];
          for (int i = 0; i < part.size(); i++) {
            byte[] hwc;
            try {
              hwc = pre.centerCrop(AdmPreprocess.read(part.get(i))).data();
            } catch (IOException | RuntimeException e) {
              throw new IOException(
                  part.get(i) + " is unreadable (" + e.getMessage() + "); fix or remove it", e);
            }
            for (int p = 0; p < hw; p++) {
              for (int ch = 0; ch < 3; ch++) {
                nchw[(i * 3 + ch) * hw + p] = hwc[p * 3 + ch];
              }
            }
          }
          try (Scope s = Scope.open()) {
            Tensor u8 = Tensor.of(nchw, DType.UINT8, part.size(), 3, size, size);
            float[] f =
                net.features(u8, EnumSet.of(Feature.F2048)).get(Feature.F2048).toFloatArray();
            return new EvalParallel.Chunk(f, part.size(), 0);
          }
        },
        (c, r) -> {
          try (Scope s = Scope.open()) {
            acc.add(Tensor.of(r.values(), r.n(), 2048));
          }
          progress.update(Math.min(files.size(), (c + 1) * batch), "");
        });
    progress.end();
    if (acc.count() < 2) {
      throw new IllegalArgumentException("statistics need at least 2 images, got " + acc.count());
    }
    return Fid.withFloat32Mean(acc.statistics());
  }
}
