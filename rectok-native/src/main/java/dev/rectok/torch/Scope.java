package dev.rectok.torch;

import java.util.ArrayList;

/**
 * Frees every tensor created inside it, on the thread that opened it, when it closes — except those
 * {@linkplain #keep kept}, which move to the enclosing scope (or to the caller when there is none).
 * The unit of ownership for a step of work:
 *
 * <pre>{@code
 * try (Scope step = Scope.open()) {
 *   Tensor loss = model.forward(x).sub(y).pow(2).mean();
 *   loss.backward();
 *   optimizer.step();
 * } // every intermediate of the step is freed here
 * }</pre>
 *
 * <p>Scopes nest and must be closed in reverse order of opening, on the thread that opened them
 * (use try-with-resources). Not thread-safe: tensors created by other threads are not adopted.
 */
public final class Scope implements AutoCloseable {
  private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();

  private final Scope parent;
  private final Thread owner;
  private final ArrayList<Tensor> owned = new ArrayList<>();
  private boolean closed;

  private Scope(Scope parent) {
    this.parent = parent;
    this.owner = Thread.currentThread();
  }

  /** Opens a scope on the current thread; it becomes the innermost one. */
  public static Scope open() {
    Scope s = new Scope(CURRENT.get());
    CURRENT.set(s);
    return s;
  }

  /** The innermost open scope of this thread, or null. */
  static Scope current() {
    return CURRENT.get();
  }

  void adopt(Tensor t) {
    t.scope = this;
    owned.add(t);
  }

  void release(Tensor t) {
    // Kept tensors are usually the most recent ones: search from the end.
    for (int i = owned.size() - 1; i >= 0; i--) {
      if (owned.get(i) == t) {
        owned.remove(i);
        return;
      }
    }
  }

  /**
   * Keeps {@code t} alive past this scope: it moves to the enclosing scope, or to the caller (who
   * must close it) when this is the outermost one.
   *
   * @return {@code t}
   */
  public Tensor keep(Tensor t) {
    checkOpen();
    if (t.scope != this) {
      throw new IllegalArgumentException("the tensor does not belong to this scope");
    }
    release(t);
    t.scope = null;
    if (parent != null) {
      parent.adopt(t);
    } else {
      t.trackLeak();
    }
    return t;
  }

  /** Number of tensors this scope still owns (closed ones included until the scope closes). */
  public int size() {
    return owned.size();
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("scope already closed");
    }
    if (Thread.currentThread() != owner) {
      throw new IllegalStateException(
          "a scope is confined to the thread that opened it (" + owner.getName() + ")");
    }
  }

  /** Frees the owned tensors, newest first, and restores the enclosing scope. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    checkOpen();
    if (CURRENT.get() != this) {
      throw new IllegalStateException("scopes must be closed innermost first");
    }
    closed = true;
    CURRENT.set(parent);
    RuntimeException first = null;
    for (int i = owned.size() - 1; i >= 0; i--) {
      try {
        owned.get(i).close();
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        }
      }
    }
    owned.clear();
    if (first != null) {
      throw first;
    }
  }
}
