package dev.rectok.eval;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The SHA-256 that {@code metrics.json} and evaluation reports record for a reference or weights
 * file. Stateless; thread-safe.
 */
public final class FileHashes {
  private FileHashes() {}

  /**
   * SHA-256 of a file, or of a folder's regular files in name order (each preceded by its name), as
   * lower-case hex; null for null.
   *
   * @param p the file or folder
   * @return the hex digest
   * @throws IOException when a file cannot be read
   */
  public static String sha256(Path p) throws IOException {
    if (p == null) {
      return null;
    }
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    List<Path> files;
    if (Files.isDirectory(p)) {
      try (var s = Files.list(p)) {
        files = s.filter(Files::isRegularFile).sorted().toList();
      }
    } else {
      files = List.of(p);
    }
    byte[] buf = new byte[1 << 20];
    for (Path f : files) {
      if (files.size() > 1) {
        md.update(f.getFileName().toString().getBytes(StandardCharsets.UTF_8));
      }
      try (InputStream in = Files.newInputStream(f)) {
        int n;
        while ((n = in.read(buf)) > 0) {
          md.update(buf, 0, n);
        }
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
