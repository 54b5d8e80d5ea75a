package dev.rectok.eval;

import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.torch.io.Npz;
import java.awt.image.BufferedImage;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * The images an evaluation reads, streamed in batches of uint8 (N, 3, H, W): a folder of PNG/JPEG
 * files (sorted by name, decoded on worker threads) or an ADM-style {@code .npz} whose {@code
 * arr_0} is uint8 (N, H, W, 3) (read image by image, never whole).
 *
 * <p>Every image must be readable, RGB (three channels, no alpha) and of the first image's size:
 * otherwise the read fails with an exception naming the file — a metric over silently skipped
 * images is wrong. With {@code skipBad}, unreadable or mismatched files are skipped and counted
 * ({@link #skipped()}) so the report can say so.
 *
 * <p>Owns its decoder threads and the open {@code .npz}; close it. Not thread-safe.
 */
public final class ImageSource implements AutoCloseable {
  private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".bmp");

  private final Path path;
  private final boolean skipBad;
  private final List<Path> files;
  private final Npz.Reader npz;
  private final InputStream npzStream;
  private final ExecutorService pool;
  private final int total;
  private int next;
  private int height = -1;
  private int width = -1;
  private long skipped;
  private final List<String> skippedFiles = new ArrayList<>();

  private ImageSource(Path path, boolean skipBad, List<Path> files, Npz.Reader npz, int threads)
      throws IOException {
    this.path = path;
    this.skipBad = skipBad;
    this.files = files;
    this.npz = npz;
    if (npz != null) {
      Npz.ArrayInfo a = npz.info("arr_0");
      long[] s = a.shape();
      if (!a.descr().equals("|u1") || s.length != 4 || s[3] != 3) {
        throw new CheckpointFormatException(
            path
                + ": arr_0 must be uint8 (N, H, W, 3) images, got "
                + a
                + " (a statistics-only file cannot be used where images are needed)");
      }
      this.total = Math.toIntExact(s[0]);
      this.height = Math.toIntExact(s[1]);
      this.width = Math.toIntExact(s[2]);
      this.npzStream = npz.stream("arr_0");
      this.pool = null;
    } else {
      this.total = files.size();
      this.npzStream = null;
      this.pool =
          Executors.newFixedThreadPool(
              Math.max(1, threads),
              r -> {
                Thread t = new Thread(r, "rectok-png-decoder");
                t.setDaemon(true);
                return t;
              });
    }
  }

  /**
   * Opens a folder of images or an {@code .npz} with {@code arr_0}.
   *
   * @param threads decoder threads for folders (e.g. the number of cores)
   * @throws IOException naming {@code path} when it is missing, empty or not an image set
   */
  public static ImageSource open(Path path, boolean skipBad, int threads) throws IOException {
    if (Files.isDirectory(path)) {
      List<Path> files;
      try (Stream<Path> s = Files.list(path)) {
        files =
            s.filter(
                    p -> {
                      String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                      return Files.isRegularFile(p) && EXTENSIONS.stream().anyMatch(n::endsWith);
                    })
                .sorted()
                .toList();
      }
      if (files.isEmpty()) {
        throw new IOException(path + " has no .png/.jpg images");
      }
      return new ImageSource(path, skipBad, files, null, threads);
    }
    if (!Files.isRegularFile(path)) {
      throw new java.nio.file.NoSuchFileException(
          path.toString(), null, "no such image folder or .npz file");
    }
    Npz.Reader r = Npz.open(path);
    try {
      if (!r.has("arr_0")) {
        throw new CheckpointFormatException(
            path + " has no arr_0 images (it has " + r.arrays().keySet() + ")");
      }
      return new ImageSource(path, skipBad, null, r, threads);
    } catch (IOException | RuntimeException e) {
      r.close();
      throw e;
    }
  }

  /** What was opened. */
  public Path path() {
    return path;
  }

  /** Images in the source (before skipping). */
  public int size() {
    return total;
  }

  /** Images skipped so far (only with {@code skipBad}). */
  public long skipped() {
    return skipped;
  }

  /** The first few skipped files with the reason. */
  public List<String> skippedFiles() {
    return List.copyOf(skippedFiles);
  }

  /**
   * One batch of images.
   *
   * @param pixels {@code n} images (N, 3, H, W) as uint8 bytes, row-major
   * @param n number of images
   * @param height image height
   * @param width image width
   */
  public record Batch(byte[] pixels, int n, int height, int width) {}

  /** The next batch of at most {@code max} images, or null at the end. */
  public Batch next(int max) throws IOException {
    while (next < total) {
      int n = Math.min(max, total - next);
      Batch b = npz != null ? nextNpz(n) : nextFiles(n);
      if (b != null) {
        return b;
      }
    }
    return null;
  }

  private Batch nextNpz(int n) throws IOException {
    int hw = height * width;
    byte[] hwc = new byte[hw * 3];
    byte[] out = new byte[n * hw * 3];
    DataInputStream in = new DataInputStream(npzStream);
    for (int i = 0; i < n; i++) {
      try {
        in.readFully(hwc);
      } catch (java.io.EOFException e) {
        throw new CheckpointFormatException(path + ": arr_0 is truncated at image " + (next + i));
      }
      int base = i * hw * 3;
      for (int p = 0; p < hw; p++) {
        out[base + p] = hwc[p * 3];
        out[base + hw + p] = hwc[p * 3 + 1];
        out[base + 2 * hw + p] = hwc[p * 3 + 2];
      }
    }
    next += n;
    return new Batch(out, n, height, width);
  }

  private record Decoded(Path file, BufferedImage image, String problem) {}

  private Batch nextFiles(int n) throws IOException {
    List<Future<Decoded>> jobs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Path f = files.get(next + i);
      jobs.add(pool.submit(() -> decode(f)));
    }
    next += n;
    List<BufferedImage> ok = new ArrayList<>();
    for (Future<Decoded> j : jobs) {
      Decoded d;
      try {
        d = j.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted while decoding images");
      } catch (ExecutionException e) {
        throw new IOException("decoding failed: " + e.getCause(), e.getCause());
      }
      String problem = d.problem();
      if (problem == null) {
        if (height < 0) {
          height = d.image().getHeight();
          width = d.image().getWidth();
        } else if (d.image().getHeight() != height || d.image().getWidth() != width) {
          problem =
              "is "
                  + d.image().getWidth()
                  + "x"
                  + d.image().getHeight()
                  + " but the first image is "
                  + width
                  + "x"
                  + height
                  + " (all images of a set must have one size)";
        }
      }
      if (problem != null) {
        if (!skipBad) {
          throw new IOException(
              d.file()
                  + " "
                  + problem
                  + "; fix or remove it (or pass --skip-bad to skip and count it)");
        }
        skipped++;
        if (skippedFiles.size() < 20) {
          skippedFiles.add(d.file() + " " + problem);
        }
        continue;
      }
      ok.add(d.image());
    }
    if (ok.isEmpty()) {
      return null;
    }
    int hw = height * width;
    byte[] out = new byte[ok.size() * hw * 3];
    int[] rgb = new int[hw];
    for (int i = 0; i < ok.size(); i++) {
      ok.get(i).getRGB(0, 0, width, height, rgb, 0, width);
      int base = i * hw * 3;
      for (int p = 0; p < hw; p++) {
        int v = rgb[p];
        out[base + p] = (byte) (v >>> 16);
        out[base + hw + p] = (byte) (v >>> 8);
        out[base + 2 * hw + p] = (byte) v;
      }
    }
    return new Batch(out, ok.size(), height, width);
  }

  private static Decoded decode(Path f) {
    BufferedImage img;
    try {
      img = ImageIO.read(f.toFile());
    } catch (IOException | RuntimeException e) {
      return new Decoded(f, null, "is unreadable (" + e.getMessage() + ")");
    }
    if (img == null) {
      return new Decoded(f, null, "is unreadable (not a PNG/JPEG image)");
    }
    int channels = img.getColorModel().getNumComponents();
    if (channels != 3) {
      return new Decoded(
          f,
          null,
          "has " + channels + " channel(s); RGB images (3 channels, no alpha) are expected");
    }
    return new Decoded(f, img, null);
  }

  // --- issue 14: chunk by chunk, for evaluation split over ranks (EvalParallel) ---

  /**
   * The next chunk: the next {@code max} images (fewer at the end) less the skipped ones, so a
   * batch with {@code n == 0} when all were skipped; null at the end. {@link #next} is a run of
   * chunks with the empty ones left out.
   */
  public Batch chunk(int max) throws IOException {
    if (next >= total) {
      return null;
    }
    int n = Math.min(max, total - next);
    Batch b = npz != null ? nextNpz(n) : nextFiles(n);
    return b != null ? b : new Batch(new byte[0], 0, Math.max(height, 0), Math.max(width, 0));
  }

  /**
   * Passes over the next chunk of {@code max} images without decoding it (another rank's), except
   * that a folder's first readable image is decoded while the set's size is still unknown, so that
   * every rank checks its images against the same first image as one process would.
   */
  public void skip(int max) throws IOException {
    int n = Math.min(max, total - next);
    if (n <= 0) {
      return;
    }
    if (npz != null) {
      long bytes = (long) n * height * width * 3;
      try {
        npzStream.skipNBytes(bytes);
      } catch (java.io.EOFException e) {
        throw new CheckpointFormatException(path + ": arr_0 is truncated at image " + next);
      }
    } else {
      for (int i = 0; i < n && height < 0; i++) {
        Decoded d = decode(files.get(next + i));
        if (d.problem() == null) {
          height = d.image().getHeight();
          width = d.image().getWidth();
        }
      }
    }
    next += n;
  }

  @Override
  public void close() throws IOException {
    if (pool != null) {
      pool.shutdownNow();
    }
    if (npzStream != null) {
      npzStream.close();
    }
    if (npz != null) {
      npz.close();
    }
  }
}
