package dev.rectok.torch.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the legacy (pre-1.6, non-zip) {@code torch.save} format, in which torch-fidelity's and
 * pytorch-fid's Inception weights were published: five pickles back to back (the magic number
 * {@code 0x1950a86a20f9469cfc6c}, the protocol version 1001, the system info dict, the object whose
 * tensors name their storages by persistent id {@code ('storage', type, key, location, numel,
 * None)}, and the list of storage keys), then each storage as an int64 little-endian element count
 * followed by its raw bytes. Every pickle runs on the same restricted {@link Unpickler} as the zip
 * format, with the same allow-list; the layout is validated (magic, protocol, little-endian,
 * counts, sizes, every referenced storage present) before a tensor is published. Reached through
 * {@link PthReader#read}, which recognises the format. Stateless; thread-safe.
 */
final class LegacyPthReader {
  private static final BigInteger MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
  private static final long PROTOCOL = 1001;

  // PROTO 2, LONG1 of 10 bytes, the magic number, STOP: how every legacy file starts
  static final byte[] HEAD = {
    (byte) 0x80,
    0x02,
    (byte) 0x8a,
    0x0a,
    0x6c,
    (byte) 0xfc,
    (byte) 0x9c,
    0x46,
    (byte) 0xf9,
    0x20,
    0x6a,
    (byte) 0xa8,
    0x50,
    0x19,
    0x2e
  };

  private LegacyPthReader() {}

  /** Whether {@code path} starts like a legacy {@code torch.save} file (a missing file is not). */
  static boolean isLegacy(Path path) throws IOException {
    if (!Files.isRegularFile(path)) {
      return false;
    }
    try (var in = Files.newInputStream(path)) {
      return java.util.Arrays.equals(in.readNBytes(HEAD.length), HEAD);
    }
  }

  static PthCheckpoint read(Path path) throws IOException {
    long size = Files.size(path);
    if (size > Integer.MAX_VALUE - 16) {
      throw new CheckpointFormatException(
          path + ": legacy torch.save files over 2 GiB are not supported");
    }
    byte[] b = Files.readAllBytes(path);
    PthCheckpoint.Owner owner = new PthCheckpoint.Owner(path);
    boolean ok = false;
    try {
      String where = path + " (legacy torch.save)";
      Unpickler u = new Unpickler(b, 0, where + " magic", owner, false);
      Object magic = u.load();
      if (!(magic instanceof BigInteger m
          ? m.equals(MAGIC)
          : magic instanceof Long l && BigInteger.valueOf(l).equals(MAGIC))) {
        throw new CheckpointFormatException(where + ": wrong magic number " + magic);
      }
      u = new Unpickler(b, u.position(), where + " protocol", owner, false);
      Object proto = u.load();
      if (!(proto instanceof Long p) || p != PROTOCOL) {
        throw new CheckpointFormatException(
            where + ": protocol version " + proto + ", expected " + PROTOCOL);
      }
      u = new Unpickler(b, u.position(), where + " sys_info", owner, false);
      Object info = u.load();
      if (!(info instanceof Map<?, ?> sys) || !Boolean.TRUE.equals(sys.get("little_endian"))) {
        throw new CheckpointFormatException(
            where + ": only little-endian files are supported (sys_info " + info + ")");
      }
      Unpickler main = new Unpickler(b, u.position(), where + " data", owner, true);
      Object root = main.load();
      u = new Unpickler(b, main.position(), where + " storage keys", owner, false);
      Object keys = u.load();
      if (!(keys instanceof List<?> keyList)) {
        throw new CheckpointFormatException(where + ": the storage key list is " + keys);
      }
      int pos = u.position();
      Map<String, PthStorage> storages = main.storages();
      Set<String> seen = new HashSet<>();
      for (Object k : keyList) {
        if (!(k instanceof String key) || !seen.add(key)) {
          throw new CheckpointFormatException(where + ": bad or repeated storage key " + k);
        }
        if (b.length - pos < 8) {
          throw new CheckpointFormatException(where + ": truncated before storage " + key);
        }
        long count = 0;
        for (int i = 7; i >= 0; i--) {
          count = (count << 8) | (b[pos + i] & 0xff);
        }
        pos += 8;
        PthStorage s = storages.get(key);
        long nbytes;
        if (s == null) {
          // written but unused by the object: skip it, without trusting more than the file has
          nbytes = -1;
        } else {
          nbytes = s.nbytes;
          boolean plausible =
              count == 0
                  ? nbytes == 0
                  : count > 0
                      && nbytes % count == 0
                      && Set.of(1L, 2L, 4L, 8L).contains(nbytes / count);
          if (!plausible) {
            throw new CheckpointFormatException(
                where
                    + ": storage "
                    + key
                    + " holds "
                    + count
                    + " elements but the tensors expect "
                    + nbytes
                    + " bytes");
          }
        }
        if (nbytes < 0) {
          throw new CheckpointFormatException(
              where + ": storage " + key + " is not referenced by any tensor");
        }
        if (b.length - pos < nbytes) {
          throw new CheckpointFormatException(
              where
                  + ": storage "
                  + key
                  + " is truncated ("
                  + (b.length - pos)
                  + " of "
                  + nbytes
                  + " bytes left)");
        }
        MemorySegment dst = owner.arena.allocate(Math.max(nbytes, 1), 64).asSlice(0, nbytes);
        MemorySegment.copy(MemorySegment.ofArray(b), pos, dst, 0, nbytes);
        s.fill(dst);
        pos += (int) nbytes;
      }
      for (String k : storages.keySet()) {
        if (!seen.contains(k)) {
          throw new CheckpointFormatException(
              where + ": storage " + k + " is referenced but not stored");
        }
      }
      if (pos != b.length) {
        throw new CheckpointFormatException(
            where + ": " + (b.length - pos) + " unexpected bytes after the storages");
      }
      PthCheckpoint ck = new PthCheckpoint(owner, root);
      ok = true;
      return ck;
    } finally {
      if (!ok) {
        owner.close();
      }
    }
  }
}
