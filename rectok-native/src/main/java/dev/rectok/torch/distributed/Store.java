package dev.rectok.torch.distributed;

import dev.rectok.torch.internal.CallFrame;
import dev.rectok.torch.internal.Shim;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A c10d key-value store, the rendezvous of a {@link ProcessGroup}: {@link #tcp} (rank 0 serves,
 * the others connect; {@code torchrun}'s {@code MASTER_ADDR:MASTER_PORT}), {@link #file} (a file on
 * a shared file system; one fresh file per run) or {@link #prefix} (a namespace inside another
 * store). Values are bytes; {@link #get} waits for a key up to the store's timeout.
 *
 * <p><b>Ownership.</b> A store owns one native handle, freed by {@link #close}. A prefix store
 * holds its own reference to the underlying store, so either may be closed first. A process group
 * keeps the store it was built on alive natively; the Java object may be closed after the group is
 * built.
 *
 * <p><b>Threading.</b> Thread-safe: c10d serialises the operations of one store, and {@link #close}
 * waits for calls in flight (a blocked {@link #get} for at most the timeout).
 */
public final class Store implements AutoCloseable {
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private MemorySegment handle;
  private final String description;

  private Store(MemorySegment handle, String description) {
    this.handle = handle;
    this.description = description;
  }

  /** Whether this shim was built with c10d and Gloo (else every factory throws). */
  public static boolean available() {
    return Native.available();
  }

  /**
   * A TCP store at {@code host:port}. The server ({@code isServer}, rank 0) listens and waits until
   * {@code worldSize} clients (itself included) connected; clients connect, retrying, up to {@code
   * timeout}, which also bounds every later {@link #get}.
   *
   * @throws DistributedException if the port is taken, the server is unreachable or the timeout
   *     elapses
   */
  public static Store tcp(
      String host, int port, boolean isServer, int worldSize, Duration timeout) {
    Objects.requireNonNull(host, "host");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be in 0..65535, got " + port);
    }
    long ms = Native.millis(timeout, "store timeout");
    String what =
        (isServer ? "TCP store server on port " : "TCP store client of ") + host + ":" + port;
    CallFrame f = CallFrame.get();
    try (Arena a = Arena.ofConfined()) {
      Native.check(
          (int)
              Shim.rt_store_tcp.MH.invokeExact(
                  f.ctx, a.allocateFrom(host), port, isServer ? 1 : 0, worldSize, ms, f.out),
          f,
          what);
      return new Store(Native.outPointer(f), what);
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
  }

  /** A store in {@code file}, shared by {@code worldSize} processes; use a fresh file per run. */
  public static Store file(Path file, int worldSize, Duration timeout) {
    Objects.requireNonNull(file, "file");
    long ms = Native.millis(timeout, "store timeout");
    String what = "file store " + file;
    CallFrame f = CallFrame.get();
    try (Arena a = Arena.ofConfined()) {
      Native.check(
          (int)
              Shim.rt_store_file.MH.invokeExact(
                  f.ctx, a.allocateFrom(file.toString()), worldSize, ms, f.out),
          f,
          what);
      return new Store(Native.outPointer(f), what);
    } catch (Throwable t) {
      throw Native.rethrow(t);
    }
  }

  /**
   * A view of this store whose keys are prefixed with {@code prefix + "/"} (owned by the caller).
   */
  public Store prefix(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    lock.readLock().lock();
    try (Arena a = Arena.ofConfined()) {
      CallFrame f = CallFrame.get();
      Native.check(
          (int) Shim.rt_store_prefix.MH.invokeExact(f.ctx, a.allocateFrom(prefix), live(), f.out),
          f,
          "prefix store");
      return new Store(Native.outPointer(f), description + " [" + prefix + "]");
    } catch (Throwable t) {
      throw Native.rethrow(t);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Sets {@code key} to {@code value}. */
  public void set(String key, byte[] value) {
    lock.readLock().lock();
    try (Arena a = Arena.ofConfined()) {
      CallFrame f = CallFrame.get();
      MemorySegment v = a.allocate(Math.max(1, value.length));
      MemorySegment.copy(value, 0, v, ValueLayout.JAVA_BYTE, 0, value.length);
      Native.check(
          (int)
              Shim.rt_store_set.MH.invokeExact(
                  f.ctx, live(), a.allocateFrom(key), v, (long) value.length),
          f,
          description + ": set " + key);
    } catch (Throwable t) {
      throw Native.rethrow(t);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Sets {@code key} to the UTF-8 bytes of {@code value}. */
  public void set(String key, String value) {
    set(key, value.getBytes(StandardCharsets.UTF_8));
  }

  /** The value of {@code key}, waiting for it up to the store's timeout. */
  public byte[] get(String key) {
    lock.readLock().lock();
    try (Arena a = Arena.ofConfined()) {
      CallFrame f = CallFrame.get();
      MemorySegment k = a.allocateFrom(key);
      MemorySegment len = a.allocate(ValueLayout.JAVA_LONG);
      int cap = 4096;
      while (true) {
        MemorySegment buf = a.allocate(cap);
        int status = (int) Shim.rt_store_get.MH.invokeExact(f.ctx, live(), k, buf, (long) cap, len);
        long n = len.get(ValueLayout.JAVA_LONG, 0);
        if (status == Shim.RT_ERR_ARG && n > cap) {
          cap = Math.toIntExact(n);
          continue;
        }
        Native.check(status, f, description + ": get " + key);
        return buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
      }
    } catch (Throwable t) {
      throw Native.rethrow(t);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The value of {@code key} as UTF-8 text (waits like {@link #get}). */
  public String getString(String key) {
    return new String(get(key), StandardCharsets.UTF_8);
  }

  /**
   * Atomically adds {@code delta} to the integer counter {@code key} (0 when new); returns the new
   * value.
   */
  public long add(String key, long delta) {
    lock.readLock().lock();
    try (Arena a = Arena.ofConfined()) {
      CallFrame f = CallFrame.get();
      MemorySegment out = a.allocate(ValueLayout.JAVA_LONG);
      Native.check(
          (int) Shim.rt_store_add.MH.invokeExact(f.ctx, live(), a.allocateFrom(key), delta, out),
          f,
          description + ": add " + key);
      return out.get(ValueLayout.JAVA_LONG, 0);
    } catch (Throwable t) {
      throw Native.rethrow(t);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Whether {@code key} is set, without waiting. */
  public boolean check(String key) {
    lock.readLock().lock();
    try (Arena a = Arena.ofConfined()) {
      CallFrame f = CallFrame.get();
      MemorySegment out = a.allocate(ValueLayout.JAVA_INT);
      Native.check(
          (int) Shim.rt_store_check.MH.invokeExact(f.ctx, live(), a.allocateFrom(key), out),
          f,
          description + ": check " + key);
      return out.get(ValueLayout.JAVA_INT, 0) != 0;
    } catch (Throwable t) {
      throw Native.rethrow(t);
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The native handle (borrowed); for {@link ProcessGroup}. Call under the read lock. */
  MemorySegment live() {
    MemorySegment h = handle;
    if (h == null) {
      throw new IllegalStateException(description + " is closed");
    }
    return h;
  }

  ReentrantReadWriteLock lock() {
    return lock;
  }

  @Override
  public String toString() {
    return description;
  }

  /**
   * Frees the native store (a TCP server stops serving once every user of it is gone). Idempotent.
   */
  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      if (handle != null) {
        Shim.rt_store_free.MH.invokeExact(handle);
        handle = null;
      }
    } catch (Throwable t) {
      throw Native.rethrow(t);
    } finally {
      lock.writeLock().unlock();
    }
  }
}
