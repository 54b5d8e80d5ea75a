package dev.rectok.torch.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An open, validated, memory-mapped safetensors file (see {@link SafeTensors#open}).
 *
 * <p>Ownership: this object owns the mapping, held by a shared {@link Arena}. Every {@link
 * HostTensor} it returns is a zero-copy, read-only slice of that mapping and becomes invalid when
 * this file is closed; copy the bytes out first if they must outlive it. Slices are not necessarily
 * aligned beyond the 8-byte alignment of the data buffer start. As with any mapping, the file must
 * not be truncated while open (replacing it by rename, as {@link SafeTensors#write} does, is safe).
 *
 * <p>Threading: after {@link SafeTensors#open} returns, all state is immutable, so any number of
 * threads may call the accessors and read the slices concurrently. {@link #close} is idempotent; it
 * must not race with reads still in progress (those would fail with {@link IllegalStateException}).
 */
public final class SafeTensorsFile implements AutoCloseable {
  private final Path path;
  private final Arena arena;
  private final MemorySegment map;
  private final long bufferStart;
  private final Map<String, TensorInfo> infos;
  private final List<String> names;
  private final Map<String, String> metadata;
  private final AtomicBoolean closed = new AtomicBoolean();

  SafeTensorsFile(
      Path path,
      Arena arena,
      MemorySegment map,
      long bufferStart,
      LinkedHashMap<String, TensorInfo> infos,
      Map<String, String> metadata) {
    this.path = path;
    this.arena = arena;
    this.map = map;
    this.bufferStart = bufferStart;
    this.infos = Collections.unmodifiableMap(infos);
    this.names = List.copyOf(infos.keySet());
    this.metadata = metadata;
  }

  /** The file this was opened from. */
  public Path path() {
    return path;
  }

  /** The {@code __metadata__} string map (empty when absent), in header order; unmodifiable. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** Tensor names in header order; unmodifiable. */
  public List<String> names() {
    return names;
  }

  /** True if the file has a tensor of that name. */
  public boolean contains(String name) {
    return infos.containsKey(name);
  }

  /**
   * The dtype, shape and byte range of a tensor.
   *
   * @throws IllegalArgumentException if there is no such tensor
   */
  public TensorInfo info(String name) {
    TensorInfo t = infos.get(name);
    if (t == null) {
      throw new IllegalArgumentException(
          path
              + ": no tensor named '"
              + name
              + "' (the file has "
              + names.size()
              + " tensors"
              + sample()
              + ")");
    }
    return t;
  }

  /**
   * A zero-copy, read-only view of a tensor, valid until {@link #close}.
   *
   * @throws IllegalArgumentException if there is no such tensor
   * @throws IllegalStateException if the file is closed
   */
  public HostTensor get(String name) {
    TensorInfo t = info(name);
    ensureOpen();
    return new HostTensor(t.dtype(), t.shape(), map.asSlice(bufferStart + t.begin(), t.byteSize()));
  }

  /** Every tensor, in header order, as zero-copy views valid until {@link #close}. */
  public Map<String, HostTensor> all() {
    LinkedHashMap<String, HostTensor> m = new LinkedHashMap<>();
    for (String n : names) {
      m.put(n, get(n));
    }
    return Collections.unmodifiableMap(m);
  }

  /** Unmaps the file; idempotent. Slices handed out before become invalid. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      arena.close();
    }
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new IllegalStateException(path + " is closed");
    }
  }

  private String sample() {
    if (names.isEmpty()) {
      return "";
    }
    int k = Math.min(5, names.size());
    return ", e.g. " + String.join(", ", names.subList(0, k)) + (k < names.size() ? ", ..." : "");
  }

  @Override
  public String toString() {
    return "SafeTensorsFile[" + path + ", " + names.size() + " tensors]";
  }
}
