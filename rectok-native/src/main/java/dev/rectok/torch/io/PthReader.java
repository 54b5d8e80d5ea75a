package dev.rectok.torch.io;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Objects;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads PyTorch checkpoints written by {@code torch.save} in the zip format (PyTorch 1.6 and
 * later): {@code <prefix>/data.pkl} holds the pickled object and {@code <prefix>/data/<key>} the
 * raw little-endian storage bytes; {@code <prefix>/byteorder} must say {@code little} when present,
 * and other records ({@code version}, {@code .data/serialization_id}, ...) are ignored.
 *
 * <p>Security: the pickle runs on a private interpreter that emulates only an allow-list of globals
 * ({@code collections.OrderedDict}, the {@code torch._utils} tensor and parameter rebuild
 * functions, {@code torch._tensor._rebuild_from_type_v2} around them, storage classes, dtypes,
 * {@code torch.Size}, and {@code _codecs.encode} with which protocol 2 pickles bytes). Nothing from
 * the file is ever executed; any other global (such as {@code os.system}) fails the read with a
 * {@link CheckpointFormatException} naming it.
 *
 * <p>Robustness: truncated or corrupted zips and pickles, views outside their storage, and sizes
 * not backed by the file all fail with {@link CheckpointFormatException}. Storages must be stored
 * uncompressed, as {@code torch.save} writes them; their combined size may not exceed the file's.
 * The path must be a regular file (a FIFO would block). {@code data.pkl} may be deflated, but its
 * inflated size is counted before it is buffered and held to {@link InputLimits#maxPickleBytes()},
 * and the pickle's result, counted as a tree, to {@link InputLimits#maxPickleNodes(long)}.
 *
 * <p>Stateless and thread-safe; the returned {@link PthCheckpoint} owns the storage memory.
 */
public final class PthReader {

  private PthReader() {}

  /**
   * Reads a checkpoint, copying every referenced storage into native memory owned by the result.
   *
   * @param path a {@code torch.save} zip file
   * @return the checkpoint; the caller owns it and must close it
   * @throws CheckpointFormatException if the file is not a valid, safe zip checkpoint (the message
   *     names the file and the problem)
   * @throws IOException if the file cannot be opened
   */
  public static PthCheckpoint read(Path path) throws IOException {
    Objects.requireNonNull(path, "path");
    InputLimits.requireRegularFile(path, "checkpoint");
    if (LegacyPthReader.isLegacy(
        path)) { // issue 11: the pre-1.6 format (torch-fidelity's Inception weights)
      return LegacyPthReader.read(path);
    }
    long fileSize = sniff(path);
    PthCheckpoint.Owner owner = new PthCheckpoint.Owner(path);
    boolean ok = false;
    try {
      PthCheckpoint ck;
      try (ZipFile zip = new ZipFile(path.toFile())) {
        ck = readZip(path, zip, fileSize, owner);
      } catch (CheckpointFormatException e) {
        throw e;
      } catch (IOException e) {
        // the file opened fine above, so a failure now means its content is damaged
        String why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        throw new CheckpointFormatException(path + ": damaged zip: " + why, e);
      } catch (RuntimeException e) {
        // java.util.zip reports some malformations (bad names, bad headers) unchecked
        throw new CheckpointFormatException(path + ": unreadable checkpoint: " + e, e);
      }
      ok = true;
      return ck;
    } finally {
      if (!ok) {
        owner.close();
      }
    }
  }

  // Opens the file (so "not found" stays a plain IOException) and recognises the format.
  private static long sniff(Path path) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long size = ch.size();
      ByteBuffer head = ByteBuffer.allocate(LegacyPthReader.HEAD.length);
      while (head.hasRemaining() && ch.read(head) >= 0) {
        // fill
      }
      byte[] h = java.util.Arrays.copyOf(head.array(), head.position());
      if (startsWith(h, LegacyPthReader.HEAD) || (h.length > 0 && (h[0] & 0xff) == 0x80)) {
        throw new CheckpointFormatException(
            path
                + ": this is the legacy (non-zip) torch.save "
                + "format; only the zip format of PyTorch >= 1.6 is supported (re-save it with "
                + "torch.save in a recent PyTorch)");
      }
      boolean zip =
          startsWith(h, new byte[] {'P', 'K', 3, 4}) || startsWith(h, new byte[] {'P', 'K', 5, 6});
      if (!zip) {
        throw new CheckpointFormatException(
            path
                + ": not a torch.save zip checkpoint (the file "
                + "does not start with a zip header"
                + (size < 4 ? "; it has " + size + " bytes" : "")
                + ")");
      }
      return size;
    }
  }

  private static PthCheckpoint readZip(
      Path path, ZipFile zip, long fileSize, PthCheckpoint.Owner owner) throws IOException {
    String prefix = findPrefix(path, zip);
    checkByteOrder(path, zip, prefix);
    ZipEntry pkl = zip.getEntry(prefix + "data.pkl");
    byte[] pickle = readPickle(path, zip, pkl);
    Unpickler u = new Unpickler(pickle, path + ": " + pkl.getName(), owner);
    Object root = u.load();
    loadStorages(path, zip, prefix, fileSize, u.storages().values(), owner);
    return new PthCheckpoint(owner, root);
  }

  // A deflated data.pkl can claim any size and inflate ~1000:1, so its size is first counted
  // while inflating into a small buffer, and only a pickle within the limit is buffered (issue 10).
  private static byte[] readPickle(Path path, ZipFile zip, ZipEntry pkl) throws IOException {
    long limit = InputLimits.maxPickleBytes();
    String tooBig =
        path
            + ": "
            + pkl.getName()
            + " decompresses to more than "
            + limit
            + " bytes (the limit; raise it with -Drectok.io.maxPickleBytes=N if the file is trusted)";
    if (pkl.getSize() > limit) {
      throw new CheckpointFormatException(tooBig);
    }
    long size = 0;
    byte[] buf = new byte[64 << 10];
    try (InputStream in = zip.getInputStream(pkl)) {
      for (int n; (n = in.read(buf)) >= 0; ) {
        size += n;
        if (size > limit) {
          throw new CheckpointFormatException(tooBig);
        }
      }
    }
    byte[] pickle;
    try (InputStream in = zip.getInputStream(pkl)) {
      pickle = in.readNBytes((int) size);
      if (pickle.length != size || in.read() >= 0) {
        throw new CheckpointFormatException(
            path + ": " + pkl.getName() + " changed while it was read");
      }
    }
    return pickle;
  }

  // torch.save puts every record under one top-level folder; data.pkl must be in it.
  private static String findPrefix(Path path, ZipFile zip) throws CheckpointFormatException {
    List<String> found = new ArrayList<>();
    Enumeration<? extends ZipEntry> en = zip.entries();
    while (en.hasMoreElements()) {
      String n = en.nextElement().getName();
      int slash = n.indexOf('/');
      if (slash > 0 && n.equals(n.substring(0, slash + 1) + "data.pkl")) {
        found.add(n.substring(0, slash + 1));
      }
    }
    if (found.isEmpty()) {
      throw new CheckpointFormatException(
          path + ": no <prefix>/data.pkl record; not a torch.save zip checkpoint");
    }
    if (found.size() > 1) {
      throw new CheckpointFormatException(path + ": several data.pkl records " + found);
    }
    return found.getFirst();
  }

  private static void checkByteOrder(Path path, ZipFile zip, String prefix) throws IOException {
    ZipEntry e = zip.getEntry(prefix + "byteorder");
    if (e == null) {
      return; // older writers omit it; they were little-endian
    }
    byte[] v;
    try (InputStream in = zip.getInputStream(e)) {
      v = in.readNBytes(16);
    }
    String order = new String(v, StandardCharsets.ISO_8859_1).strip();
    if (order.equals("big")) {
      throw new CheckpointFormatException(
          path + ": big-endian checkpoints are not supported (byteorder record says 'big')");
    }
    if (!order.equals("little")) {
      throw new CheckpointFormatException(path + ": unknown byteorder record '" + order + "'");
    }
  }

  private static void loadStorages(
      Path path,
      ZipFile zip,
      String prefix,
      long fileSize,
      Iterable<PthStorage> storages,
      PthCheckpoint.Owner owner)
      throws IOException {
    long total = 0;
    byte[] chunk = null;
    for (PthStorage s : storages) {
      String name = prefix + "data/" + s.key;
      ZipEntry e = zip.getEntry(name);
      if (e == null || e.isDirectory()) {
        throw new CheckpointFormatException(path + ": storage record " + name + " is missing");
      }
      // Only stored records: their sizes are backed by the file, so nothing is allocated
      // for bytes that are not there (a deflated record could claim any size).
      if (e.getMethod() != ZipEntry.STORED) {
        throw new CheckpointFormatException(
            path + ": storage record " + name + " is compressed; torch.save stores them raw");
      }
      if (e.getSize() != s.nbytes) {
        throw new CheckpointFormatException(
            path
                + ": storage record "
                + name
                + " has "
                + e.getSize()
                + " bytes but the pickle expects "
                + s.nbytes);
      }
      total += s.nbytes;
      if (total > fileSize) {
        throw new CheckpointFormatException(
            path + ": storage records add up to more than the " + fileSize + "-byte file");
      }
      MemorySegment dst = owner.arena.allocate(Math.max(s.nbytes, 1), 64).asSlice(0, s.nbytes);
      if (chunk == null) {
        chunk = new byte[1 << 20];
      }
      try (InputStream in = zip.getInputStream(e)) {
        long done = 0;
        while (done < s.nbytes) {
          int n = in.read(chunk, 0, (int) Math.min(chunk.length, s.nbytes - done));
          if (n < 0) {
            throw new CheckpointFormatException(
                path
                    + ": storage record "
                    + name
                    + " is truncated at "
                    + done
                    + " of "
                    + s.nbytes
                    + " bytes");
          }
          MemorySegment.copy(MemorySegment.ofArray(chunk), 0, dst, done, n);
          done += n;
        }
      }
      s.fill(dst);
    }
  }

  private static boolean startsWith(byte[] a, byte[] p) {
    if (a.length < p.length) {
      return false;
    }
    for (int i = 0; i < p.length; i++) {
      if (a[i] != p[i]) {
        return false;
      }
    }
    return true;
  }
}
