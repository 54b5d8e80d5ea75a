package dev.rectok.train.generator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.image.AdmPreprocess;
import dev.rectok.models.tokenizer.RecTok;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.io.SafeTensorsFile;
import dev.rectok.train.data.DataLoader;
import dev.rectok.train.data.ImageDataset;
import dev.rectok.train.loop.Batch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * Precomputed latents: a dataset encoded once by a frozen tokenizer, served by dataset index.
 *
 * <p><b>What is stored, and why.</b> For every sample and for both orientations (as loaded, and
 * mirrored left-right) the <em>normalized posterior mean</em> {@code (mean − μ_c)·s/σ_c} and the
 * <em>normalized posterior std</em> {@code std·s/σ_c} (μ, σ, s: the tokenizer's latent statistics
 * and scale factor, docs/tokenizer.md#latent-statistics). Serving draws a fresh ε each time, {@code
 * mean + std·ε}, which has exactly the law of the reference's online {@code tokenize(flip(x),
 * sampling=True)} (docs/training.md#cached-latents): a new posterior sample every epoch and the
 * epoch's flip. Storing one sampled latent per flip would be half the size but would replay the
 * same ε every epoch; storing only the mean would drop the posterior noise altogether. The cost is
 * 4·C·h·w values per sample (bfloat16 storage halves it; the reference itself encodes under bf16
 * autocast).
 *
 * <p><b>File.</b> One safetensors file: {@code indices} int64 (N) dataset indices (unique), {@code
 * mean} and {@code std} (N, 2, C, h, w) float32 or bfloat16 ({@code [:, 0]} as loaded, {@code [:,
 * 1]} mirrored), and in {@code __metadata__} under {@value #METADATA_KEY} a JSON description
 * (format, version, shape, the statistics used) plus under {@value #CRC_KEY} a CRC-32C over the
 * description and every tensor's name, dtype, shape and bytes. Written atomically ({@link
 * SafeTensors#write}); {@link #open} validates framing, format, shapes, uniqueness and the checksum
 * before serving anything, and rejects a truncated, corrupted or foreign file with {@link
 * CheckpointFormatException}.
 *
 * <p><b>Flips.</b> A {@link Batch} carries images already flipped but not the flip flags, so the
 * cache asks a {@link FlipRule} which orientation sample i had in epoch e; for batches from {@link
 * DataLoader} that is {@link FlipRule#dataLoader(long)} with the loader's seed.
 *
 * <p><b>Ownership and threading.</b> An open cache keeps the file memory-mapped until {@link
 * #close}; returned tensors belong to the caller. Training thread only; {@link #build} borrows the
 * tokenizer and the images.
 */
public final class LatentCache implements LatentSource {
  /** The {@code __metadata__} key of the cache description. */
  public static final String METADATA_KEY = "rectok.latent_cache";

  /** The {@code __metadata__} key of the checksum. */
  public static final String CRC_KEY = "rectok.latent_cache.crc32c";

  /** The format name in the description. */
  public static final String FORMAT = "rectok-latent-cache";

  /** The format version this code writes and reads. */
  public static final int VERSION = 1;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> NAMES = Set.of("indices", "mean", "std");

  /** Which orientation a sample had in an epoch. Implementations must be pure functions. */
  @FunctionalInterface
  public interface FlipRule {
    /** Whether dataset sample {@code index} was mirrored in {@code epoch}. */
    boolean flipped(int epoch, long index);

    /** No flip augmentation. */
    static FlipRule none() {
      return (e, i) -> false;
    }

    /** The flips of a {@link DataLoader} with shuffling/flipping seed {@code seed}. */
    static FlipRule dataLoader(long seed) {
      return (e, i) -> DataLoader.flipped(seed, e, Math.toIntExact(i));
    }
  }

  /** Unflipped images of dataset samples, for {@link #build}. */
  @FunctionalInterface
  public interface ImageSource {
    /**
     * Images (n, 3, H, W) in [−1, 1], as loaded (not mirrored), of {@code indices}; owned by the
     * caller.
     */
    Tensor images(long[] indices);

    /** Rows of an in-memory (N, 1 or 3, H, W) tensor (borrowed); one channel is repeated to RGB. */
    static ImageSource ofTensor(Tensor all) {
      return indices -> {
        try (Scope s = Scope.open()) {
          Tensor rows = all.indexSelect(0, Tensor.of(indices));
          if (rows.size(1) == 1) {
            rows = rows.expand(-1, 3, -1, -1);
          }
          return s.keep(rows.contiguous());
        }
      };
    }

    /**
     * Samples of an {@link ImageDataset} (borrowed), ADM centre-cropped and normalized as the
     * training loader does, without the flip. A file that cannot be read fails the build with an
     * {@link UncheckedIOException}.
     */
    static ImageSource ofDataset(ImageDataset dataset) {
      return indices -> {
        try (Scope s = Scope.open()) {
          Tensor[] rows = new Tensor[indices.length];
          for (int i = 0; i < indices.length; i++) {
            try {
              rows[i] = AdmPreprocess.toTensor(dataset.load(Math.toIntExact(indices[i])));
            } catch (IOException e) {
              throw new UncheckedIOException(
                  "sample " + indices[i] + " (" + dataset.path(Math.toIntExact(indices[i])) + ")",
                  e);
            }
          }
          return s.keep(Tensor.stack(rows, 0));
        }
      };
    }
  }

  private final Path file;
  private final SafeTensorsFile st;
  private final FlipRule flips;
  private final Map<Long, Integer> rows;
  private final DType dtype;
  private final int channels;
  private final int grid;

  private LatentCache(
      Path file,
      SafeTensorsFile st,
      FlipRule flips,
      Map<Long, Integer> rows,
      DType dtype,
      int channels,
      int grid) {
    this.file = file;
    this.st = st;
    this.flips = flips;
    this.rows = rows;
    this.dtype = dtype;
    this.channels = channels;
    this.grid = grid;
  }

  /**
   * Encodes dataset samples {@code indices} (unique) with {@code tokenizer} (borrowed, on {@code
   * device}, latent statistics set) in batches of {@code batchSize}, both orientations, and writes
   * the cache to {@code file} atomically with {@code storage} dtype (FLOAT32 or BFLOAT16). Autograd
   * is off; the tokenizer is put in eval mode.
   *
   * @throws IOException if writing fails ({@code file} is then untouched)
   */
  public static void build(
      Path file,
      RecTok tokenizer,
      long[] indices,
      ImageSource source,
      int batchSize,
      Device device,
      DType storage)
      throws IOException {
    Objects.requireNonNull(source, "source");
    if (storage != DType.FLOAT32 && storage != DType.BFLOAT16) {
      throw new IllegalArgumentException(
          "storage dtype must be float32 or bfloat16, got " + storage);
    }
    if (batchSize <= 0 || indices.length == 0) {
      throw new IllegalArgumentException("need a positive batch size and at least one index");
    }
    if (Arrays.stream(indices).distinct().count() != indices.length) {
      throw new IllegalArgumentException("dataset indices must be unique");
    }
    tokenizer.eval();
    int c = tokenizer.config().tokenChannels();
    int g = tokenizer.config().gridSize();
    int side = tokenizer.config().imgSize();
    try (Scope scope = Scope.open();
        GradMode ng = GradMode.noGrad();
        Arena arena = Arena.ofConfined()) {
      List<Tensor> means = new ArrayList<>();
      List<Tensor> stds = new ArrayList<>();
      for (int from = 0; from < indices.length; from += batchSize) {
        long[] chunk =
            Arrays.copyOfRange(indices, from, Math.min(indices.length, from + batchSize));
        try (Scope b = Scope.open()) {
          Tensor x = source.images(chunk).to(DType.FLOAT32, device);
          long[] xs = x.shape();
          if (xs.length != 4
              || xs[0] != chunk.length
              || xs[1] != 3
              || xs[2] != side
              || xs[3] != side) {
            throw new IllegalArgumentException(
                "the image source returned "
                    + Arrays.toString(xs)
                    + " for "
                    + chunk.length
                    + " indices; the tokenizer encodes (n, 3, "
                    + side
                    + ", "
                    + side
                    + ")");
          }
          Tensor both = Tensor.cat(new Tensor[] {x, x.flip(3)}, 0);
          try (RecTok.Encoding e = tokenizer.encode(both, false, null)) {
            if (e.posterior() == null) {
              throw new IllegalArgumentException(
                  "the tokenizer has no posterior (disable_kl): nothing to sample");
            }
            Tensor mean = tokenizer.normalizeZ(e.posterior().mean());
            Tensor std =
                e.posterior()
                    .std()
                    .mul(tokenizer.config().scaleFactor())
                    .div(tokenizer.latentStd().to(DType.FLOAT32, device));
            means.add(b.keep(pairUp(mean, chunk.length, c, g).to(storage, Device.CPU)));
            stds.add(b.keep(pairUp(std, chunk.length, c, g).to(storage, Device.CPU)));
          }
        }
      }
      LinkedHashMap<String, HostTensor> tensors = new LinkedHashMap<>();
      tensors.put("indices", Tensor.of(indices).toHost(arena));
      tensors.put("mean", Tensor.cat(means.toArray(Tensor[]::new), 0).toHost(arena));
      tensors.put("std", Tensor.cat(stds.toArray(Tensor[]::new), 0).toHost(arena));
      ObjectNode meta = JSON.createObjectNode();
      meta.put("format", FORMAT).put("version", VERSION).put("count", indices.length);
      meta.put("channels", c).put("grid", g).put("dtype", storage.safetensorsName());
      meta.put("scale_factor", tokenizer.config().scaleFactor());
      meta.set("latent_mean", JSON.valueToTree(tokenizer.latentMean().toFloatArray()));
      meta.set("latent_std", JSON.valueToTree(tokenizer.latentStd().toFloatArray()));
      String description = JSON.writeValueAsString(meta);
      SafeTensors.write(
          file, tensors, Map.of(METADATA_KEY, description, CRC_KEY, crc(description, tensors)));
    }
  }

  /** (2n, L, C) with the n unflipped rows first -> (n, 2, C, g, g). */
  private static Tensor pairUp(Tensor z, int n, int c, int g) {
    return z.transpose(1, 2).reshape(2, n, c, g, g).transpose(0, 1).contiguous();
  }

  /**
   * Opens and validates a cache written by {@link #build}.
   *
   * @throws CheckpointFormatException if it is truncated, corrupted, foreign or inconsistent
   */
  public static LatentCache open(Path file, FlipRule flips) throws IOException {
    Objects.requireNonNull(flips, "flips");
    SafeTensorsFile st = SafeTensors.open(file);
    try {
      String text = st.metadata().get(METADATA_KEY);
      if (text == null) {
        throw new CheckpointFormatException(
            file + ": not a RecTok latent cache (no '" + METADATA_KEY + "' in __metadata__)");
      }
      JsonNode meta;
      try {
        meta = JSON.readTree(text);
      } catch (IOException e) {
        throw new CheckpointFormatException(
            file + ": latent cache description is not valid JSON", e);
      }
      if (!FORMAT.equals(meta.path("format").asText(null))
          || meta.path("version").asInt(-1) != VERSION) {
        throw new CheckpointFormatException(
            file
                + ": not a version-"
                + VERSION
                + " RecTok latent cache (format "
                + meta.get("format")
                + ", version "
                + meta.get("version")
                + ")");
      }
      if (!new java.util.HashSet<>(st.names()).equals(NAMES)) {
        throw new CheckpointFormatException(
            file + ": a latent cache holds exactly " + NAMES + ", found " + st.names());
      }
      long n = meta.path("count").asLong(-1);
      int c = meta.path("channels").asInt(-1);
      int g = meta.path("grid").asInt(-1);
      DType dtype = st.info("mean").dtype();
      long[] want = {n, 2, c, g, g};
      if (n <= 0
          || c <= 0
          || g <= 0
          || (dtype != DType.FLOAT32 && dtype != DType.BFLOAT16)
          || st.info("std").dtype() != dtype
          || st.info("indices").dtype() != DType.INT64
          || !Arrays.equals(st.info("mean").shape(), want)
          || !Arrays.equals(st.info("std").shape(), want)
          || !Arrays.equals(st.info("indices").shape(), new long[] {n})) {
        throw new CheckpointFormatException(
            file
                + ": tensors do not match the description (count "
                + n
                + ", channels "
                + c
                + ", grid "
                + g
                + "): indices "
                + st.info("indices")
                + ", mean "
                + st.info("mean")
                + ", std "
                + st.info("std"));
      }
      LinkedHashMap<String, HostTensor> byOffset = new LinkedHashMap<>();
      st.names().stream()
          .sorted(java.util.Comparator.comparingLong(k -> st.info(k).begin()))
          .forEach(k -> byOffset.put(k, st.get(k)));
      String recorded = st.metadata().getOrDefault(CRC_KEY, "(none)");
      String actual = crc(text, byOffset);
      if (!recorded.equals(actual)) {
        throw new CheckpointFormatException(
            file
                + ": checksum mismatch (CRC-32C "
                + actual
                + ", recorded "
                + recorded
                + "): the file is corrupted");
      }
      MemorySegment idx = st.get("indices").data();
      Map<Long, Integer> rows = new HashMap<>();
      ValueLayout.OfLong le = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < n; i++) {
        if (rows.put(idx.get(le, 8L * i), i) != null) {
          throw new CheckpointFormatException(
              file + ": dataset index " + idx.get(le, 8L * i) + " appears twice");
        }
      }
      return new LatentCache(file, st, flips, rows, dtype, c, g);
    } catch (IOException | RuntimeException e) {
      st.close();
      throw e;
    }
  }

  /** Number of cached samples. */
  public int size() {
    return rows.size();
  }

  /** Whether dataset sample {@code index} is cached. */
  public boolean contains(long index) {
    return rows.containsKey(index);
  }

  /** The storage dtype (float32 or bfloat16). */
  public DType storageDType() {
    return dtype;
  }

  @Override
  public int channels() {
    return channels;
  }

  @Override
  public int gridSize() {
    return grid;
  }

  /**
   * The stored normalized posterior mean and std of one sample and orientation, each (C, h, w)
   * float32 on the CPU: {@code [mean, std]}, owned by the caller.
   *
   * @throws IllegalArgumentException if {@code index} is not cached
   */
  public Tensor[] posterior(long index, boolean flipped) {
    Integer row = rows.get(index);
    if (row == null) {
      throw new IllegalArgumentException(
          "dataset sample "
              + index
              + " is not in the latent cache "
              + file
              + " ("
              + rows.size()
              + " samples)");
    }
    long per = (long) channels * grid * grid;
    long offset = (2L * row + (flipped ? 1 : 0)) * per * dtype.byteSize();
    long[] shape = {channels, grid, grid};
    try (Scope s = Scope.open()) {
      Tensor[] out = new Tensor[2];
      String[] names = {"mean", "std"};
      for (int k = 0; k < 2; k++) {
        MemorySegment seg = st.get(names[k]).data().asSlice(offset, per * dtype.byteSize());
        out[k] = s.keep(Tensor.fromHost(new HostTensor(dtype, shape, seg)).to(DType.FLOAT32));
      }
      return out;
    }
  }

  @Override
  public Tensor latents(Batch batch, TorchGenerator gen, Device device) {
    int b = batch.size();
    try (Scope s = Scope.open()) {
      Tensor[] mean = new Tensor[b];
      Tensor[] std = new Tensor[b];
      for (int i = 0; i < b; i++) {
        long index = batch.indices()[i];
        Tensor[] p = posterior(index, flips.flipped(batch.epoch(), index));
        mean[i] = p[0];
        std[i] = p[1];
      }
      Tensor m = Tensor.stack(mean, 0).to(device);
      Tensor sd = Tensor.stack(std, 0).to(device);
      Tensor eps = Tensor.randn(m.shape(), gen, DType.FLOAT32, device);
      return s.keep(m.add(sd.mul(eps)));
    }
  }

  @Override
  public void close() {
    st.close();
  }

  private static String crc(String description, Map<String, HostTensor> tensors) {
    CRC32C crc = new CRC32C();
    crc.update(description.getBytes(StandardCharsets.UTF_8));
    tensors.forEach(
        (name, t) -> {
          crc.update(name.getBytes(StandardCharsets.UTF_8));
          crc.update(0);
          crc.update(t.dtype().safetensorsName().getBytes(StandardCharsets.UTF_8));
          for (long d : t.shape()) {
            crc.update(ByteBuffer.allocate(8).putLong(0, d));
          }
          MemorySegment seg = t.data();
          for (long off = 0; off < seg.byteSize(); ) {
            int len = (int) Math.min(1L << 30, seg.byteSize() - off);
            crc.update(seg.asSlice(off, len).asByteBuffer());
            off += len;
          }
        });
    return Long.toHexString(crc.getValue());
  }
}
