package dev.rectok.torch.io;

import java.lang.foreign.MemorySegment;

/**
 * One storage record of a .pth zip ({@code <prefix>/data/<key>}), shared by every tensor that views
 * it. The bytes are filled in once, after the pickle has been checked and before the checkpoint is
 * published, and are never written again or handed out uncopied.
 */
final class PthStorage {
  final String key;
  final String location;
  final long nbytes;
  private MemorySegment bytes;

  PthStorage(String key, String location, long nbytes) {
    this.key = key;
    this.location = location;
    this.nbytes = nbytes;
  }

  void fill(MemorySegment data) {
    if (bytes != null || data.byteSize() != nbytes) {
      throw new IllegalStateException("storage " + key + " filled twice or with a wrong size");
    }
    bytes = data;
  }

  MemorySegment bytes() {
    if (bytes == null) {
      throw new IllegalStateException("storage " + key + " was not loaded");
    }
    return bytes;
  }
}
