package dev.rectok.eval;

import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.torch.io.Npz;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * FID statistics files: ADM reference batches ({@code mu}, {@code sigma}, and their spatial {@code
 * mu_s}, {@code sigma_s}) and RecTok's {@code adm_in256_stats.npz} ({@code mu}, {@code sigma});
 * {@link #write} produces the latter (what {@code rectok eval stats} makes). Everything is
 * validated: a 1-d finite mean, a square finite covariance of the same width. Stateless;
 * thread-safe.
 */
public final class ReferenceStatistics {
  private ReferenceStatistics() {}

  /** Whether {@code npz} holds stored {@code mu} and {@code sigma}. */
  public static boolean hasStatistics(Npz.Reader npz) {
    return npz.has("mu") && npz.has("sigma");
  }

  /**
   * Reads {@code mu} and {@code sigma} of an open file.
   *
   * @throws CheckpointFormatException naming the file for missing, mis-shaped or non-finite arrays
   */
  public static FrechetDistance.Statistics read(Npz.Reader npz) throws IOException {
    return read(npz, "mu", "sigma");
  }

  /**
   * Whether {@code npz} holds the ADM reference batch's spatial {@code mu_s} and {@code sigma_s}.
   */
  public static boolean hasSpatialStatistics(Npz.Reader npz) {
    return npz.has("mu_s") && npz.has("sigma_s");
  }

  /**
   * Reads the spatial {@code mu_s} and {@code sigma_s} (sFID) of an open file.
   *
   * @throws CheckpointFormatException naming the file for missing, mis-shaped or non-finite arrays
   */
  public static FrechetDistance.Statistics readSpatial(Npz.Reader npz) throws IOException {
    return read(npz, "mu_s", "sigma_s");
  }

  private static FrechetDistance.Statistics read(Npz.Reader npz, String muKey, String sigmaKey)
      throws IOException {
    Path f = npz.file();
    long[] ms = npz.info(muKey).shape();
    long[] ss = npz.info(sigmaKey).shape();
    if (ms.length != 1 || ss.length != 2 || ss[0] != ms[0] || ss[1] != ms[0] || ms[0] < 1) {
      throw new CheckpointFormatException(
          f
              + ": "
              + muKey
              + " "
              + java.util.Arrays.toString(ms)
              + " and "
              + sigmaKey
              + " "
              + java.util.Arrays.toString(ss)
              + " are not a (D,) mean with its (D, D) covariance");
    }
    int d = Math.toIntExact(ms[0]);
    double[] mu = npz.doubles(muKey);
    double[] sig = npz.doubles(sigmaKey);
    for (double v : mu) {
      if (!Double.isFinite(v)) {
        throw new CheckpointFormatException(
            f + ": " + muKey + " has NaN or infinite values; recompute the statistics");
      }
    }
    double[][] sigma = new double[d][d];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        double v = sig[i * d + j];
        if (!Double.isFinite(v)) {
          throw new CheckpointFormatException(
              f + ": " + sigmaKey + " has NaN or infinite values; recompute the statistics");
        }
        sigma[i][j] = v;
      }
    }
    // the count is not stored; 2 satisfies the Statistics invariant and is never used by FID
    return new FrechetDistance.Statistics(mu, sigma, 2);
  }

  /**
   * Writes {@code mu} and {@code sigma} (float64) as an {@code .npz}, atomically; refuses to
   * overwrite unless {@code force}.
   */
  public static void write(Path file, FrechetDistance.Statistics s, boolean force)
      throws IOException {
    if (Files.exists(file) && !force) {
      throw new java.nio.file.FileAlreadyExistsException(
          file.toString(), null, "exists; pass --force to overwrite");
    }
    double[] flat = s.covarianceRowMajor();
    try (Npz.Writer w = Npz.create(file, false)) {
      w.putDoubles("mu", s.mean(), s.dim());
      w.putDoubles("sigma", flat, s.dim(), s.dim());
      w.commit();
    }
  }
}
