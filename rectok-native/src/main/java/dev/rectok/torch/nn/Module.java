package dev.rectok.torch.nn;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.GradMode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.io.HostTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * {@code torch.nn.Module}: a tree of named parameters, buffers and children. Dotted names equal
 * PyTorch's {@code state_dict} keys ({@code blocks.3.attn.qkv.weight}, numbered children like
 * {@code ffn.1}), so checkpoints map one to one.
 *
 * <p><b>Ownership.</b> A module owns its parameters, buffers and children and frees them all in
 * {@link #close()}. Tensors returned by {@link #stateDict()} and {@link Parameter#data()} are
 * borrowed: do not close them.
 *
 * <p><b>Threading.</b> Build and load on one thread. After that, concurrent forward passes in eval
 * mode are safe (they only read parameters); training, {@link #train}/{@link #eval}, and loading
 * must not overlap with other use.
 */
public abstract class Module implements AutoCloseable {
  private final LinkedHashMap<String, Parameter> parameters = new LinkedHashMap<>();
  private final LinkedHashMap<String, Tensor> buffers = new LinkedHashMap<>();
  private final LinkedHashMap<String, Boolean> persistent = new LinkedHashMap<>();
  private final LinkedHashMap<String, Module> children = new LinkedHashMap<>();
  private boolean training = true;
  private boolean closed;

  /** Registers a trainable parameter, taking ownership of {@code value}. */
  protected final Parameter registerParameter(String name, Tensor value) {
    return registerParameter(name, new Parameter(value, true));
  }

  /** Registers a parameter. */
  protected final Parameter registerParameter(String name, Parameter p) {
    checkName(name);
    parameters.put(name, p);
    return p;
  }

  /**
   * Registers a buffer, taking ownership of {@code value}. Non-persistent buffers (tables that are
   * recomputed, such as RoPE frequencies) are left out of the state dict, as in PyTorch.
   */
  protected final Tensor registerBuffer(String name, Tensor value, boolean isPersistent) {
    checkName(name);
    Tensor t = value.escape();
    buffers.put(name, t);
    persistent.put(name, isPersistent);
    return t;
  }

  /** Replaces a buffer's tensor (the old one is closed). */
  protected final Tensor replaceBuffer(String name, Tensor value) {
    Tensor old = buffers.get(name);
    if (old == null) {
      throw new IllegalArgumentException("no buffer named " + name);
    }
    Tensor t = value.escape();
    buffers.put(name, t);
    if (old != t) {
      old.close();
    }
    return t;
  }

  /** Registers a child module; {@code name} may be a number for list-like containers. */
  protected final <M extends Module> M registerModule(String name, M child) {
    checkName(name);
    children.put(name, Objects.requireNonNull(child, "child"));
    return child;
  }

  private void checkName(String name) {
    if (name.isEmpty() || name.contains(".")) {
      throw new IllegalArgumentException("invalid attribute name '" + name + "'");
    }
    if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
      throw new IllegalArgumentException("attribute '" + name + "' already exists");
    }
  }

  /** The parameter named {@code name} of this module (not of its children). */
  public final Parameter parameter(String name) {
    Parameter p = parameters.get(name);
    if (p == null) {
      throw new IllegalArgumentException(
          getClass().getSimpleName() + " has no parameter '" + name + "'");
    }
    return p;
  }

  /** The buffer named {@code name} of this module (borrowed). */
  public final Tensor buffer(String name) {
    Tensor b = buffers.get(name);
    if (b == null) {
      throw new IllegalArgumentException(
          getClass().getSimpleName() + " has no buffer '" + name + "'");
    }
    return b;
  }

  /** Direct children in registration order. */
  public final Map<String, Module> children() {
    return Collections.unmodifiableMap(children);
  }

  /** Every parameter, recursively, with dotted names in PyTorch's order. */
  public final Map<String, Parameter> namedParameters() {
    LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
    collectParameters("", out);
    return out;
  }

  private void collectParameters(String prefix, Map<String, Parameter> out) {
    parameters.forEach((k, v) -> out.put(prefix + k, v));
    children.forEach((k, c) -> c.collectParameters(prefix + k + ".", out));
  }

  /** Every parameter, recursively. */
  public final List<Parameter> parameters() {
    return new ArrayList<>(namedParameters().values());
  }

  /** Every buffer, recursively, persistent or not. */
  public final Map<String, Tensor> namedBuffers() {
    LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
    collectBuffers("", out, false);
    return out;
  }

  private void collectBuffers(String prefix, Map<String, Tensor> out, boolean persistentOnly) {
    buffers.forEach(
        (k, v) -> {
          if (!persistentOnly || persistent.get(k)) {
            out.put(prefix + k, v);
          }
        });
    children.forEach((k, c) -> c.collectBuffers(prefix + k + ".", out, persistentOnly));
  }

  /**
   * {@code state_dict()}: parameters and persistent buffers, per module in PyTorch's order (own
   * parameters, own buffers, then children). The tensors are borrowed.
   */
  public final Map<String, Tensor> stateDict() {
    LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
    collectState("", out);
    return Collections.unmodifiableMap(out);
  }

  private void collectState(String prefix, Map<String, Tensor> out) {
    parameters.forEach((k, v) -> out.put(prefix + k, v.data()));
    buffers.forEach(
        (k, v) -> {
          if (persistent.get(k)) {
            out.put(prefix + k, v);
          }
        });
    children.forEach((k, c) -> c.collectState(prefix + k + ".", out));
  }

  /**
   * {@code load_state_dict(state, strict)}: copies values into parameters and persistent buffers
   * (converting dtype and device). Everything is checked before anything is copied: a shape
   * mismatch, or with {@code strict} a missing or unexpected key, throws {@link
   * IllegalArgumentException} naming the keys and leaves the module unchanged. The caller keeps
   * ownership of {@code state}. The report's {@link LoadReport#ignored} are the unexpected keys,
   * its {@link LoadReport#missing} the missing ones; its file is null, its entry {@value
   * LoadReport#MEMORY}.
   */
  public final LoadReport loadStateDict(Map<String, Tensor> state, boolean strict) {
    return load(state, Tensor::shape, t -> t, strict);
  }

  /** {@link #loadStateDict} from host tensors (safetensors or {@code .pth} readers). */
  public final LoadReport loadHostStateDict(Map<String, HostTensor> state, boolean strict) {
    return load(state, HostTensor::shape, Tensor::fromHost, strict);
  }

  private <V> LoadReport load(
      Map<String, V> state,
      Function<V, long[]> shapeOf,
      Function<V, Tensor> toTensor,
      boolean strict) {
    Map<String, Tensor> own = stateDict();
    List<String> missing = new ArrayList<>();
    List<String> unexpected = new ArrayList<>();
    List<String> mismatched = new ArrayList<>();
    for (var e : own.entrySet()) {
      V v = state.get(e.getKey());
      if (v == null) {
        missing.add(e.getKey());
      } else if (!Arrays.equals(shapeOf.apply(v), e.getValue().shape())) {
        mismatched.add(
            e.getKey()
                + ": checkpoint "
                + Arrays.toString(shapeOf.apply(v))
                + ", model "
                + Arrays.toString(e.getValue().shape()));
      }
    }
    for (String k : state.keySet()) {
      if (!own.containsKey(k)) {
        unexpected.add(k);
      }
    }
    if (!mismatched.isEmpty() || (strict && !(missing.isEmpty() && unexpected.isEmpty()))) {
      throw new IllegalArgumentException(
          "Error(s) in loading state_dict for "
              + getClass().getSimpleName()
              + ": missing "
              + missing
              + ", unexpected "
              + unexpected
              + ", mismatched "
              + mismatched
              + " (nothing was loaded)");
    }
    try (Scope s = Scope.open();
        GradMode g = GradMode.noGrad()) {
      for (var e : own.entrySet()) {
        V v = state.get(e.getKey());
        if (v != null) {
          Tensor src = toTensor.apply(v);
          e.getValue().copy_(src);
        }
      }
    }
    List<String> loaded = own.keySet().stream().filter(state::containsKey).toList();
    return new LoadReport(null, LoadReport.MEMORY, loaded, List.of(), unexpected, 0, missing);
  }

  /** Number of parameter elements; {@code trainableOnly} counts those that require grad. */
  public final long numParameters(boolean trainableOnly) {
    long n = 0;
    for (Parameter p : parameters()) {
      if (!trainableOnly || p.requiresGrad()) {
        n += p.numel();
      }
    }
    return n;
  }

  /** Sets training mode recursively ({@code train(mode)}). */
  public Module train(boolean mode) {
    training = mode;
    children.values().forEach(c -> c.train(mode));
    return this;
  }

  /** Evaluation mode, recursively. */
  public final Module eval() {
    return train(false);
  }

  /** Whether this module is in training mode. */
  public final boolean isTraining() {
    return training;
  }

  /** Freezes or unfreezes every parameter. */
  public final Module requiresGrad_(boolean value) {
    parameters().forEach(p -> p.requiresGrad_(value));
    return this;
  }

  /** Drops every gradient. */
  public final void zeroGrad() {
    parameters().forEach(Parameter::zeroGrad);
  }

  /**
   * Moves and converts parameters and floating-point buffers (integer buffers keep their dtype).
   */
  public Module to(DType dtype, Device device) {
    for (Parameter p : parameters.values()) {
      Tensor t = dtype == null ? p.data().to(device) : p.data().to(dtype, device);
      try (GradMode g = GradMode.noGrad()) {
        Tensor leaf = t.detach();
        t.close();
        p.set(leaf);
      }
    }
    for (var e : new ArrayList<>(buffers.entrySet())) {
      Tensor b = e.getValue();
      Tensor t = dtype == null || !b.dtype().isFloatingPoint() ? b.to(device) : b.to(dtype, device);
      replaceBuffer(e.getKey(), t);
    }
    children.values().forEach(c -> c.to(dtype, device));
    return this;
  }

  /** Re-initialises this module's own parameters the way PyTorch's constructor does. */
  public void resetParameters(TorchGenerator gen) {}

  /** Frees every parameter, buffer and child. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    parameters.values().forEach(Parameter::close);
    buffers.values().forEach(Tensor::close);
    children.values().forEach(Module::close);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append('(');
    children.forEach(
        (k, c) ->
            sb.append("\n  (").append(k).append("): ").append(c.toString().replace("\n", "\n  ")));
    return sb.append(children.isEmpty() ? ")" : "\n)").toString();
  }
}
