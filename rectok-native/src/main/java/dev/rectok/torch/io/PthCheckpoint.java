package dev.rectok.torch.io;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The object tree of a {@code torch.save} zip checkpoint, read by {@link PthReader#read}.
 *
 * <p>Python values map to Java as: dict and {@code OrderedDict} to {@link LinkedHashMap} (insertion
 * order kept, string keys stay {@link String}); list to a mutable {@link List}; tuple and {@code
 * torch.Size} to an unmodifiable {@link List}; int to {@link Long} (or {@link java.math.BigInteger}
 * when it does not fit); float to {@link Double}; str to {@link String}; bytes to {@code byte[]};
 * bool to {@link Boolean}; None to {@code null}; a {@code torch.dtype} value to {@link
 * dev.rectok.api.DType}; tensors and parameters to {@link PthTensor}. Attributes restored by BUILD
 * on a dict (the {@code _metadata} of a {@code state_dict}) are dropped.
 *
 * <p>Ownership: this object owns the native memory holding every storage (and every {@link
 * PthTensor#toHost()} copy); {@link #close} frees it, after which tensors cannot be materialized.
 * The tree itself is ordinary heap data.
 *
 * <p>Threading: safe for concurrent reads once returned; the containers are plain collections, so
 * callers that mutate them must synchronize themselves. {@link #close} is idempotent and must not
 * race with {@link PthTensor#toHost} calls in progress.
 */
public final class PthCheckpoint implements AutoCloseable {
  /** Shared by the checkpoint and its tensors: the arena and whether it is closed. */
  static final class Owner {
    final Path path;
    final Arena arena = Arena.ofShared();
    private final AtomicBoolean closed = new AtomicBoolean();

    Owner(Path path) {
      this.path = path;
    }

    void ensureOpen() {
      if (closed.get()) {
        throw new IllegalStateException(path + " is closed");
      }
    }

    void close() {
      if (closed.compareAndSet(false, true)) {
        arena.close();
      }
    }
  }

  private final Owner owner;
  private final Object root;

  PthCheckpoint(Owner owner, Object root) {
    this.owner = owner;
    this.root = root;
  }

  /** The file this was read from. */
  public Path path() {
    return owner.path;
  }

  /** The unpickled object, converted as described in the class documentation. */
  public Object root() {
    return root;
  }

  /** The string keys of the root dict, in order; empty if the root is not a dict. */
  public Set<String> topLevelKeys() {
    Set<String> keys = new LinkedHashSet<>();
    if (root instanceof Map<?, ?> m) {
      for (Object k : m.keySet()) {
        if (k instanceof String s) {
          keys.add(s);
        }
      }
    }
    return Collections.unmodifiableSet(keys);
  }

  /**
   * The tensors of the dict reached from the root through the given keys, e.g. {@code
   * tensors("model_ema")}; no keys means the root dict itself. Entries whose key is not a string or
   * whose value is not a tensor are skipped. Order is preserved.
   *
   * @throws IllegalArgumentException if a key is missing or does not lead to a dict
   */
  public Map<String, PthTensor> tensors(String... path) {
    Object cur = root;
    StringBuilder where = new StringBuilder("root");
    for (String p : path) {
      if (!(cur instanceof Map<?, ?> m)) {
        throw new IllegalArgumentException(owner.path + ": " + where + " is not a dict");
      }
      if (!m.containsKey(p)) {
        throw new IllegalArgumentException(
            owner.path
                + ": "
                + where
                + " has no key '"
                + p
                + "'"
                + (where.length() == 4 ? " (keys: " + topLevelKeys() + ")" : ""));
      }
      cur = m.get(p);
      where.append("['").append(p).append("']");
    }
    if (!(cur instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException(owner.path + ": " + where + " is not a dict");
    }
    LinkedHashMap<String, PthTensor> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : m.entrySet()) {
      if (e.getKey() instanceof String k && e.getValue() instanceof PthTensor t) {
        out.put(k, t);
      }
    }
    return Collections.unmodifiableMap(out);
  }

  /** Frees the storages and all {@link PthTensor#toHost()} copies; idempotent. */
  @Override
  public void close() {
    owner.close();
  }

  @Override
  public String toString() {
    return "PthCheckpoint[" + owner.path + "]";
  }
}
