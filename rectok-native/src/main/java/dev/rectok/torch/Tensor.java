package dev.rectok.torch;

import static dev.rectok.torch.Call.check;
import static dev.rectok.torch.Call.rethrow;

import dev.rectok.api.DType;
import dev.rectok.api.Device;
import dev.rectok.torch.internal.CallFrame;
import dev.rectok.torch.internal.Shim;
import dev.rectok.torch.io.HostTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A LibTorch tensor. Methods mirror PyTorch's (names in camelCase; in-place ops keep PyTorch's
 * trailing underscore: {@link #add_(Tensor, double)}); every op returns a new tensor that the
 * caller owns.
 *
 * <p><b>Ownership.</b> Each tensor owns exactly one native handle, freed by {@link #close()}
 * (idempotent). A tensor created while a {@link Scope} is open on the current thread belongs to
 * that scope and is freed when it closes, unless {@link Scope#keep kept} or {@link #escape()
 * escaped}. Views share storage with their base but are separate handles with their own owner. A
 * {@code Cleaner} only reports tensors that became unreachable without being closed (with the
 * allocation site under {@code -Drectok.trackLeaks=true}) and then frees them; correct code never
 * relies on it.
 *
 * <p><b>Threading.</b> A tensor may be read by several threads at once (LibTorch ops do not mutate
 * their inputs). In-place ops, {@link #backward()} and {@link #close()} must not race with other
 * use of the same tensor. The autograd mode ({@link GradMode}) is per Java thread.
 */
public final class Tensor implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Tensor.class.getName());
  private static final Cleaner CLEANER =
      Cleaner.create(
          r -> {
            Thread t = new Thread(r, "rectok-leak-detector");
            t.setDaemon(true);
            return t;
          });
  private static final boolean TRACK_LEAKS = Boolean.getBoolean("rectok.trackLeaks");
  private static final AtomicLong LEAKS = new AtomicLong();

  /** The native handle, shared with the leak detector, which must not reach the tensor. */
  static final class Handle implements Runnable {
    private static final VarHandle ADDRESS;

    static {
      try {
        ADDRESS = MethodHandles.lookup().findVarHandle(Handle.class, "address", long.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    @SuppressWarnings("unused") // accessed through ADDRESS
    private volatile long address;

    private final Throwable site;

    Handle(long address) {
      this.address = address;
      this.site = TRACK_LEAKS ? new Throwable("tensor allocated here") : null;
    }

    long get() {
      return (long) ADDRESS.getVolatile(this);
    }

    /** Frees the handle once; later calls do nothing. */
    void free() {
      long a = (long) ADDRESS.getAndSet(this, 0L);
      if (a != 0) {
        freeNative(a);
      }
    }

    @Override
    public void run() { // leak detector: the tensor was never closed
      long a = (long) ADDRESS.getAndSet(this, 0L);
      if (a != 0) {
        // free, report, then count: a counted leak is freed and reported (a logger may be slow)
        freeNative(a);
        if (site != null) {
          LOG.log(System.Logger.Level.WARNING, "a tensor was never closed; it was freed", site);
        } else {
          LOG.log(
              System.Logger.Level.WARNING,
              "a tensor was never closed; it was freed (run with -Drectok.trackLeaks=true to see where it was allocated)");
        }
        LEAKS.incrementAndGet();
      }
    }
  }

  private final Handle handle;
  private Cleaner.Cleanable cleanable;
  Scope scope;
  private long[] shape;
  private DType dtype;
  private Device device;

  private Tensor(long address) {
    this.handle = new Handle(address);
  }

  /** Wraps a new owned handle (0 gives null) and hands it to its owner. */
  static Tensor adopt(long address) {
    if (address == 0) {
      return null;
    }
    Tensor t = new Tensor(address);
    Scope s = Scope.current();
    if (s != null) {
      s.adopt(t);
    } else {
      t.trackLeak();
    }
    return t;
  }

  void trackLeak() {
    if (cleanable == null) {
      cleanable = CLEANER.register(this, handle);
    }
  }

  static void freeNative(long address) {
    try {
      Shim.rt_tensor_free.MH.invokeExact(address);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** The native handle; throws if closed. For the bindings; the tensor keeps ownership. */
  long handle() {
    long a = handle.get();
    if (a == 0) {
      throw new IllegalStateException("tensor already closed");
    }
    return a;
  }

  /** True once {@link #close()} ran (or the owning scope closed). */
  public boolean isClosed() {
    return handle.get() == 0;
  }

  /** Frees the native tensor now. Idempotent. */
  @Override
  public void close() {
    handle.free();
    if (cleanable != null) {
      cleanable.clean();
    }
  }

  /**
   * Removes this tensor from its scope: the caller now owns it and must close it.
   *
   * @return this
   */
  public Tensor escape() {
    if (scope != null) {
      scope.release(this);
      scope = null;
    }
    trackLeak();
    return this;
  }

  /** Tensors reported by the leak detector since start-up. */
  public static long leaksReported() {
    return LEAKS.get();
  }

  /** Native tensor handles alive in this process (all threads). */
  public static long liveHandles() {
    try {
      return (long) Shim.rt_live_tensors.MH.invokeExact();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  // ---------------------------------------------------------------- metadata

  private void loadMeta() {
    CallFrame f = CallFrame.get();
    int cap = 5 + 64;
    MemorySegment meta = f.longs(cap);
    try {
      check((int) Shim.rt_tensor_meta.MH.invokeExact(f.ctx, handle(), meta, (long) cap), f);
    } catch (Throwable t) {
      throw rethrow(t);
    } finally {
      Reference.reachabilityFence(this);
    }
    long[] m = meta.toArray(ValueLayout.JAVA_LONG);
    dtype = DType.fromCode((int) m[0]);
    device = m[1] == Shim.RT_DEVICE_CUDA ? Device.cuda((int) m[2]) : Device.CPU;
    shape = Arrays.copyOfRange(m, 5, 5 + (int) m[4]);
  }

  /** Sizes, outermost first (a copy). */
  public long[] shape() {
    if (shape == null) {
      loadMeta();
    }
    return shape.clone();
  }

  /** Size of dimension {@code d} (negative counts from the end). */
  public long size(int d) {
    if (shape == null) {
      loadMeta();
    }
    if (shape.length
        == 0) { // wrapDim accepts 0 and -1 for scalars, as ops do; a size does not exist
      throw new IndexOutOfBoundsException(
          "dimension specified as " + d + " but tensor has no dimensions");
    }
    return shape[wrapDim(d, shape.length)];
  }

  /** Number of dimensions. */
  public int dim() {
    if (shape == null) {
      loadMeta();
    }
    return shape.length;
  }

  /** Number of elements. */
  public long numel() {
    if (shape == null) {
      loadMeta();
    }
    return HostTensor.numel(shape);
  }

  /** Element type. */
  public DType dtype() {
    if (dtype == null) {
      loadMeta();
    }
    return dtype;
  }

  /** Device holding the data. */
  public Device device() {
    if (device == null) {
      loadMeta();
    }
    return device;
  }

  /** Strides in elements. */
  public long[] stride() {
    CallFrame f = CallFrame.get();
    int n = dim();
    MemorySegment out = f.longs(n);
    try {
      check((int) Shim.rt_tensor_strides.MH.invokeExact(f.ctx, handle(), out, (long) n), f);
    } catch (Throwable t) {
      throw rethrow(t);
    } finally {
      Reference.reachabilityFence(this);
    }
    return n == 0 ? new long[0] : out.toArray(ValueLayout.JAVA_LONG);
  }

  /** Whether autograd records operations on this tensor. */
  public boolean requiresGrad() {
    CallFrame f = CallFrame.get();
    MemorySegment meta = f.longs(5 + 64);
    try {
      check((int) Shim.rt_tensor_meta.MH.invokeExact(f.ctx, handle(), meta, 69L), f);
    } catch (Throwable t) {
      throw rethrow(t);
    } finally {
      Reference.reachabilityFence(this);
    }
    return meta.getAtIndex(ValueLayout.JAVA_LONG, 3) != 0;
  }

  static int wrapDim(int d, int ndim) {
    int r = d < 0 ? d + ndim : d;
    if (r < 0 || r >= Math.max(ndim, 1)) {
      throw new IndexOutOfBoundsException(
          "Dimension out of range (expected to be in range of ["
              + (-Math.max(ndim, 1))
              + ", "
              + (Math.max(ndim, 1) - 1)
              + "], but got "
              + d
              + ")");
    }
    return r;
  }

  @Override
  public String toString() {
    if (isClosed()) {
      return "Tensor[closed]";
    }
    return "Tensor[" + dtype() + ", " + Arrays.toString(shape) + ", " + device() + "]";
  }

  // ---------------------------------------------------------------- creation

  private static Tensor fromData(MemorySegment data, DType dtype, long[] shape, Device device) {
    return Call.tensor(
        f -> {
          MemorySegment dims = f.longs(shape);
          return (int)
              Shim.rt_from_data.MH.invokeExact(
                  f.ctx,
                  data,
                  data.byteSize(),
                  dtype.code(),
                  dims,
                  (long) shape.length,
                  deviceType(device),
                  device.index(),
                  f.out);
        });
  }

  static int deviceType(Device d) {
    return d.isCuda() ? Shim.RT_DEVICE_CUDA : Shim.RT_DEVICE_CPU;
  }

  /** A float32 CPU tensor holding a copy of {@code data}. */
  public static Tensor of(float[] data, long... shape) {
    return fromData(
        MemorySegment.ofArray(data), DType.FLOAT32, shapeOf(data.length, shape), Device.CPU);
  }

  /** A float64 CPU tensor holding a copy of {@code data}. */
  public static Tensor of(double[] data, long... shape) {
    return fromData(
        MemorySegment.ofArray(data), DType.FLOAT64, shapeOf(data.length, shape), Device.CPU);
  }

  /** An int64 CPU tensor holding a copy of {@code data}. */
  public static Tensor of(long[] data, long... shape) {
    return fromData(
        MemorySegment.ofArray(data), DType.INT64, shapeOf(data.length, shape), Device.CPU);
  }

  /** An int32 CPU tensor holding a copy of {@code data}. */
  public static Tensor of(int[] data, long... shape) {
    return fromData(
        MemorySegment.ofArray(data), DType.INT32, shapeOf(data.length, shape), Device.CPU);
  }

  /** A CPU tensor of a one-byte dtype (uint8, int8 or bool) holding a copy of {@code data}. */
  public static Tensor of(byte[] data, DType dtype, long... shape) {
    if (dtype.byteSize() != 1) {
      throw new IllegalArgumentException("byte[] data needs a one-byte dtype, not " + dtype);
    }
    if (dtype == DType.BOOL) {
      for (int i = 0; i < data.length; i++) {
        if ((data[i] & 0xfe) != 0) { // LibTorch's bool kernels assume 0 or 1
          throw new IllegalArgumentException(
              "bool data must be 0 or 1, got " + data[i] + " at index " + i);
        }
      }
    }
    return fromData(MemorySegment.ofArray(data), dtype, shapeOf(data.length, shape), Device.CPU);
  }

  /** A 0-dim float32 tensor. */
  public static Tensor scalar(double value) {
    return full(new long[0], value, DType.FLOAT32, Device.CPU);
  }

  /** A copy of host bytes, on {@code device}. */
  public static Tensor fromHost(HostTensor host, Device device) {
    return fromData(host.data(), host.dtype(), host.shape(), device);
  }

  /** A CPU copy of host bytes. */
  public static Tensor fromHost(HostTensor host) {
    return fromHost(host, Device.CPU);
  }

  /**
   * A dense copy of a strided view into raw storage bytes (how {@code .pth} storages are laid out).
   * The view is checked against the storage bounds.
   */
  public static Tensor fromStorage(
      MemorySegment storage, DType dtype, long[] shape, long[] stride, long storageOffset) {
    if (shape.length != stride.length) {
      throw new IllegalArgumentException("shape and stride differ in length");
    }
    return Call.tensor(
        f -> {
          MemorySegment s = f.longs(shape);
          MemorySegment st = f.longs(stride);
          return (int)
              Shim.rt_from_storage.MH.invokeExact(
                  f.ctx,
                  storage,
                  storage.byteSize(),
                  dtype.code(),
                  s,
                  st,
                  (long) shape.length,
                  storageOffset,
                  f.out);
        });
  }

  private static long[] shapeOf(int length, long[] shape) {
    if (shape.length == 0) {
      return new long[] {length};
    }
    long n = HostTensor.numel(shape);
    if (n != length) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(shape) + " needs " + n + " elements, data has " + length);
    }
    return shape;
  }

  /** float32 CPU zeros. */
  public static Tensor zeros(long... shape) {
    return zeros(shape, DType.FLOAT32, Device.CPU);
  }

  /** Zeros of the given dtype on the given device. */
  public static Tensor zeros(long[] shape, DType dtype, Device device) {
    return Ops.zeros(shape, dtype.code(), deviceType(device), device.index());
  }

  /** float32 CPU ones. */
  public static Tensor ones(long... shape) {
    return ones(shape, DType.FLOAT32, Device.CPU);
  }

  /** Ones of the given dtype on the given device. */
  public static Tensor ones(long[] shape, DType dtype, Device device) {
    return Ops.ones(shape, dtype.code(), deviceType(device), device.index());
  }

  /** A tensor filled with {@code value}. */
  public static Tensor full(long[] shape, double value, DType dtype, Device device) {
    return Ops.full(shape, value, dtype.code(), deviceType(device), device.index());
  }

  /** {@code torch.arange(start, end, step)}. */
  public static Tensor arange(double start, double end, double step, DType dtype, Device device) {
    return Ops.arange(start, end, step, dtype.code(), deviceType(device), device.index());
  }

  /** int64 {@code torch.arange(end)} on the CPU. */
  public static Tensor arange(long end) {
    return arange(0, end, 1, DType.INT64, Device.CPU);
  }

  /** {@code torch.linspace(start, end, steps)}, both ends included. */
  public static Tensor linspace(double start, double end, long steps, DType dtype, Device device) {
    return Ops.linspace(start, end, steps, dtype.code(), deviceType(device), device.index());
  }

  /** Standard normal samples from {@code gen} (null: LibTorch's default generator). */
  public static Tensor randn(long[] shape, TorchGenerator gen, DType dtype, Device device) {
    return Ops.randn(gen, shape, dtype.code(), deviceType(device), device.index());
  }

  /** float32 CPU standard normal samples from {@code gen}. */
  public static Tensor randn(TorchGenerator gen, long... shape) {
    return randn(shape, gen, DType.FLOAT32, Device.CPU);
  }

  /** Uniform samples in [0, 1). */
  public static Tensor rand(long[] shape, TorchGenerator gen, DType dtype, Device device) {
    return Ops.rand(gen, shape, dtype.code(), deviceType(device), device.index());
  }

  /** float32 CPU uniform samples in [0, 1). */
  public static Tensor rand(TorchGenerator gen, long... shape) {
    return rand(shape, gen, DType.FLOAT32, Device.CPU);
  }

  /** Integers uniform in [low, high). */
  public static Tensor randint(
      long low, long high, long[] shape, TorchGenerator gen, DType dtype, Device device) {
    return Ops.randint(gen, low, high, shape, dtype.code(), deviceType(device), device.index());
  }

  /** A random permutation of 0..n-1 (int64). */
  public static Tensor randperm(long n, TorchGenerator gen, Device device) {
    return Ops.randperm(gen, n, DType.INT64.code(), deviceType(device), device.index());
  }

  /** Samples 0/1 with the probabilities in this tensor. */
  public Tensor bernoulli(TorchGenerator gen) {
    return Ops.bernoulli(this, gen);
  }

  /** Fills with normal samples in place. */
  public Tensor normal_(double mean, double std, TorchGenerator gen) {
    Ops.normal_(this, gen, mean, std);
    return this;
  }

  /** Fills with uniform samples in [from, to) in place. */
  public Tensor uniform_(double from, double to, TorchGenerator gen) {
    Ops.uniform_(this, gen, from, to);
    return this;
  }

  // ---------------------------------------------------------------- host transfer

  private void copyToHost(MemorySegment dst) {
    Call.run(
        this, f -> (int) Shim.rt_copy_to_host.MH.invokeExact(f.ctx, handle(), dst, dst.byteSize()));
  }

  private int count() {
    return Math.toIntExact(numel());
  }

  /** Copies the elements, converted to {@code as}, into {@code array} (sized for them). */
  private <A> A copyAs(DType as, A array, java.util.function.Function<A, MemorySegment> segment) {
    try (Tensor c = dtype() == as ? null : to(as)) {
      (c == null ? this : c).copyToHost(segment.apply(array));
      return array;
    }
  }

  /** The elements as float (converted from this dtype), row-major. */
  public float[] toFloatArray() {
    return copyAs(DType.FLOAT32, new float[count()], MemorySegment::ofArray);
  }

  /** The elements as double (converted from this dtype), row-major. */
  public double[] toDoubleArray() {
    return copyAs(DType.FLOAT64, new double[count()], MemorySegment::ofArray);
  }

  /** The elements as long (converted from this dtype), row-major. */
  public long[] toLongArray() {
    return copyAs(DType.INT64, new long[count()], MemorySegment::ofArray);
  }

  /** The elements as int (converted from this dtype), row-major. */
  public int[] toIntArray() {
    return copyAs(DType.INT32, new int[count()], MemorySegment::ofArray);
  }

  /** The raw bytes of a one-byte dtype (uint8, int8, bool), row-major. */
  public byte[] toByteArray() {
    if (dtype().byteSize() != 1) {
      throw new IllegalStateException(
          "toByteArray needs a one-byte dtype, this tensor is " + dtype());
    }
    byte[] a = new byte[count()];
    copyToHost(MemorySegment.ofArray(a));
    return a;
  }

  /** A dense little-endian copy of the bytes, allocated in {@code arena}. */
  public HostTensor toHost(Arena arena) {
    MemorySegment seg =
        arena
            .allocate(Math.max(1, numel() * dtype().byteSize()), 8)
            .asSlice(0, numel() * dtype().byteSize());
    copyToHost(seg);
    return new HostTensor(dtype(), shape(), seg);
  }

  /** The single element as a double. */
  public double item() {
    CallFrame f = CallFrame.get();
    try {
      check((int) Shim.rt_item.MH.invokeExact(f.ctx, handle(), f.out), f);
    } catch (Throwable t) {
      throw rethrow(t);
    } finally {
      Reference.reachabilityFence(this);
    }
    return f.out.get(ValueLayout.JAVA_DOUBLE, 0);
  }

  /** The single element as a long. */
  public long itemLong() {
    CallFrame f = CallFrame.get();
    try {
      check((int) Shim.rt_item_int.MH.invokeExact(f.ctx, handle(), f.out), f);
    } catch (Throwable t) {
      throw rethrow(t);
    } finally {
      Reference.reachabilityFence(this);
    }
    return f.out.get(ValueLayout.JAVA_LONG, 0);
  }

  /** {@code torch.equal}: same dtype, shape and elements. */
  public boolean equal(Tensor other) {
    CallFrame f = CallFrame.get();
    try {
      check((int) Shim.rt_equal.MH.invokeExact(f.ctx, handle(), other.handle(), f.out), f);
    } catch (Throwable t) {
      throw rethrow(t);
    } finally {
      Reference.reachabilityFence(this);
      Reference.reachabilityFence(other);
    }
    return f.out.get(ValueLayout.JAVA_INT, 0) != 0;
  }

  // ---------------------------------------------------------------- conversion

  private Tensor toImpl(int dtypeCode, int devType, int devIndex, boolean copy) {
    return Ops.to(this, dtypeCode, devType, devIndex, copy ? 1 : 0);
  }

  /** This tensor converted to {@code dtype} (a new handle even when nothing changes). */
  public Tensor to(DType dtype) {
    return toImpl(dtype.code(), -1, -1, false);
  }

  /** This tensor on {@code device}. */
  public Tensor to(Device device) {
    return toImpl(-1, deviceType(device), device.index(), false);
  }

  /** This tensor converted to {@code dtype} on {@code device}. */
  public Tensor to(DType dtype, Device device) {
    return toImpl(dtype.code(), deviceType(device), device.index(), false);
  }

  /** A copy with its own storage ({@code torch.clone}; autograd tracks it). */
  @Override
  public Tensor clone() {
    return Ops.clone(this);
  }

  /** A view that autograd does not track. */
  public Tensor detach() {
    return Ops.detach(this);
  }

  /** A second handle to the same tensor (same storage, same autograd identity). */
  public Tensor alias() {
    return Ops.tensorAlias(this);
  }

  // ---------------------------------------------------------------- shape ops

  public Tensor reshape(long... shape) {
    return Ops.reshape(this, shape);
  }

  public Tensor view(long... shape) {
    return Ops.view(this, shape);
  }

  public Tensor permute(long... dims) {
    return Ops.permute(this, dims);
  }

  public Tensor transpose(long dim0, long dim1) {
    return Ops.transpose(this, dim0, dim1);
  }

  public Tensor contiguous() {
    return Ops.contiguous(this);
  }

  /** {@code t[..., start:end:step, ...]} along {@code dim}. */
  public Tensor slice(long dim, long start, long end, long step) {
    return Ops.slice(this, dim, start, end, step);
  }

  public Tensor narrow(long dim, long start, long length) {
    return Ops.narrow(this, dim, start, length);
  }

  public Tensor select(long dim, long index) {
    return Ops.select(this, dim, index);
  }

  public Tensor expand(long... shape) {
    return Ops.expand(this, shape);
  }

  public Tensor repeat(long... repeats) {
    return Ops.repeat(this, repeats);
  }

  public Tensor unsqueeze(long dim) {
    return Ops.unsqueeze(this, dim);
  }

  public Tensor squeeze(long dim) {
    return Ops.squeeze(this, dim);
  }

  public Tensor flatten(long startDim, long endDim) {
    return Ops.flatten(this, startDim, endDim);
  }

  public Tensor flatten() {
    return flatten(0, -1);
  }

  public Tensor flip(long... dims) {
    return Ops.flip(this, dims);
  }

  /** Splits {@code dim} into parts of the given sizes ({@code torch.split} with a list). */
  public Tensor[] split(long[] sizes, long dim) {
    CallFrame f = CallFrame.get();
    MemorySegment s = f.longs(sizes);
    MemorySegment outs = f.longs(sizes.length);
    try {
      check(
          (int)
              Shim.rt_split_with_sizes.MH.invokeExact(
                  f.ctx, handle(), s, (long) sizes.length, dim, outs),
          f);
    } catch (Throwable t) {
      throw rethrow(t);
    } finally {
      Reference.reachabilityFence(this);
    }
    Tensor[] r = new Tensor[sizes.length];
    for (int i = 0; i < r.length; i++) {
      r[i] = adopt(outs.getAtIndex(ValueLayout.JAVA_LONG, i));
    }
    return r;
  }

  /** Splits {@code dim} into parts of {@code splitSize} (the last may be smaller). */
  public Tensor[] split(long splitSize, long dim) {
    if (splitSize <= 0) {
      throw new IllegalArgumentException("split size must be positive, got " + splitSize);
    }
    long n = size(Math.toIntExact(dim));
    int parts = (int) Math.max(1, (n + splitSize - 1) / splitSize);
    long[] sizes = new long[parts];
    for (int i = 0; i < parts; i++) {
      sizes[i] = Math.min(splitSize, n - i * splitSize);
    }
    return split(sizes, dim);
  }

  /** {@code torch.chunk}: ceil(n / chunks)-sized parts, possibly fewer than {@code chunks}. */
  public Tensor[] chunk(int chunks, long dim) {
    if (chunks <= 0) {
      throw new IllegalArgumentException(
          "chunk expects chunks to be greater than 0, got: " + chunks);
    }
    long n = size(Math.toIntExact(dim));
    return split(Math.max(1, (n + chunks - 1) / chunks), dim);
  }

  /** {@code torch.cat} along {@code dim}. */
  public static Tensor cat(Tensor[] tensors, long dim) {
    return Ops.cat(tensors, dim);
  }

  /** {@code torch.stack} along a new {@code dim}. */
  public static Tensor stack(Tensor[] tensors, long dim) {
    return Ops.stack(tensors, dim);
  }

  public Tensor gather(long dim, Tensor index) {
    return Ops.gather(this, dim, index);
  }

  /**
   * Out-of-place {@code scatter}: a copy with {@code src} written at {@code index} along {@code
   * dim}.
   */
  public Tensor scatter(long dim, Tensor index, Tensor src) {
    return Ops.scatter(this, dim, index, src);
  }

  public Tensor indexSelect(long dim, Tensor index) {
    return Ops.indexSelect(this, dim, index);
  }

  public Tensor argsort(long dim, boolean descending) {
    return Ops.argsort(this, dim, descending ? 1 : 0);
  }

  /** {@code torch.where(condition, a, b)}. */
  public static Tensor where(Tensor condition, Tensor a, Tensor b) {
    return Ops.where(condition, a, b);
  }

  public Tensor pixelShuffle(long factor) {
    return Ops.pixelShuffle(this, factor);
  }

  public Tensor pixelUnshuffle(long factor) {
    return Ops.pixelUnshuffle(this, factor);
  }

  // ---------------------------------------------------------------- elementwise

  public Tensor add(Tensor other) {
    return Ops.add(this, other, 1.0);
  }

  /** {@code this + alpha * other}. */
  public Tensor add(Tensor other, double alpha) {
    return Ops.add(this, other, alpha);
  }

  public Tensor add(double value) {
    return Ops.addScalar(this, value);
  }

  public Tensor sub(Tensor other) {
    return Ops.sub(this, other, 1.0);
  }

  /** {@code this - alpha * other}. */
  public Tensor sub(Tensor other, double alpha) {
    return Ops.sub(this, other, alpha);
  }

  public Tensor sub(double value) {
    return Ops.addScalar(this, -value);
  }

  /** {@code value - this} ({@code torch.rsub}). */
  public Tensor rsub(double value) {
    return Ops.rsubScalar(this, value);
  }

  public Tensor mul(Tensor other) {
    return Ops.mul(this, other);
  }

  public Tensor mul(double value) {
    return Ops.mulScalar(this, value);
  }

  public Tensor div(Tensor other) {
    return Ops.div(this, other);
  }

  public Tensor div(double value) {
    return Ops.divScalar(this, value);
  }

  public Tensor pow(Tensor exponent) {
    return Ops.pow(this, exponent);
  }

  public Tensor pow(double exponent) {
    return Ops.powScalar(this, exponent);
  }

  public Tensor maximum(Tensor other) {
    return Ops.maximum(this, other);
  }

  public Tensor minimum(Tensor other) {
    return Ops.minimum(this, other);
  }

  private Tensor cmp(int op, Tensor other) {
    return Ops.compare(op, this, other);
  }

  private Tensor cmp(int op, double other) {
    return Ops.compareScalar(op, this, other);
  }

  public Tensor eq(Tensor o) {
    return cmp(Shim.RT_CMP_EQ, o);
  }

  public Tensor eq(double o) {
    return cmp(Shim.RT_CMP_EQ, o);
  }

  public Tensor ne(Tensor o) {
    return cmp(Shim.RT_CMP_NE, o);
  }

  public Tensor ne(double o) {
    return cmp(Shim.RT_CMP_NE, o);
  }

  public Tensor lt(Tensor o) {
    return cmp(Shim.RT_CMP_LT, o);
  }

  public Tensor lt(double o) {
    return cmp(Shim.RT_CMP_LT, o);
  }

  public Tensor le(Tensor o) {
    return cmp(Shim.RT_CMP_LE, o);
  }

  public Tensor le(double o) {
    return cmp(Shim.RT_CMP_LE, o);
  }

  public Tensor gt(Tensor o) {
    return cmp(Shim.RT_CMP_GT, o);
  }

  public Tensor gt(double o) {
    return cmp(Shim.RT_CMP_GT, o);
  }

  public Tensor ge(Tensor o) {
    return cmp(Shim.RT_CMP_GE, o);
  }

  public Tensor ge(double o) {
    return cmp(Shim.RT_CMP_GE, o);
  }

  /** {@code torch.clamp(min, max)}; a NaN bound means "no bound on that side". */
  public Tensor clamp(double min, double max) {
    return Ops.clamp(this, min, max, Double.isNaN(min) ? 0 : 1, Double.isNaN(max) ? 0 : 1);
  }

  /** {@code this + weight * (end - this)}. */
  public Tensor lerp(Tensor end, double weight) {
    return Ops.lerp(this, end, weight);
  }

  public Tensor neg() {
    return Ops.neg(this);
  }

  public Tensor abs() {
    return Ops.abs(this);
  }

  public Tensor sqrt() {
    return Ops.sqrt(this);
  }

  public Tensor rsqrt() {
    return Ops.rsqrt(this);
  }

  public Tensor exp() {
    return Ops.exp(this);
  }

  public Tensor log() {
    return Ops.log(this);
  }

  public Tensor sin() {
    return Ops.sin(this);
  }

  public Tensor cos() {
    return Ops.cos(this);
  }

  public Tensor tanh() {
    return Ops.tanh(this);
  }

  public Tensor sigmoid() {
    return Ops.sigmoid(this);
  }

  public Tensor relu() {
    return Ops.relu(this);
  }

  public Tensor silu() {
    return Ops.silu(this);
  }

  public Tensor erf() {
    return Ops.erf(this);
  }

  public Tensor erfinv() {
    return Ops.erfinv(this);
  }

  public Tensor floor() {
    return Ops.floor(this);
  }

  /** Round half to even, as {@code torch.round}. */
  public Tensor round() {
    return Ops.round(this);
  }

  public Tensor sign() {
    return Ops.sign(this);
  }

  public Tensor logicalNot() {
    return Ops.logicalNot(this);
  }

  public Tensor isfinite() {
    return Ops.isfinite(this);
  }

  // ---------------------------------------------------------------- reductions

  /** Sum of all elements (0-dim). */
  public Tensor sum() {
    return Ops.sum(this, new long[0], 0);
  }

  /** Sum over {@code dims}. */
  public Tensor sum(long[] dims, boolean keepdim) {
    return Ops.sum(this, dims, keepdim ? 1 : 0);
  }

  public Tensor mean() {
    return Ops.mean(this, new long[0], 0);
  }

  public Tensor mean(long[] dims, boolean keepdim) {
    return Ops.mean(this, dims, keepdim ? 1 : 0);
  }

  /**
   * Variance over {@code dims} with Bessel-style {@code correction} (1: unbiased). Empty dims: all.
   */
  public Tensor var(long[] dims, long correction, boolean keepdim) {
    return Ops.var(this, dims, correction, keepdim ? 1 : 0);
  }

  /** {@code torch.linalg.vector_norm(ord, dims)}. Empty dims: all. */
  public Tensor vectorNorm(double ord, long[] dims, boolean keepdim) {
    return Ops.vectorNorm(this, ord, dims, keepdim ? 1 : 0);
  }

  /** Maximum of all elements (0-dim). */
  public Tensor max() {
    return Ops.maxAll(this);
  }

  /** Minimum of all elements (0-dim). */
  public Tensor min() {
    return Ops.minAll(this);
  }

  /**
   * Values and indices of the maximum along a dimension. Both returned tensors are owned by the
   * caller.
   */
  public record ValuesIndices(Tensor values, Tensor indices) implements AutoCloseable {
    @Override
    public void close() {
      values.close();
      indices.close();
    }
  }

  private ValuesIndices reduceDim(java.lang.invoke.MethodHandle mh, long dim, boolean keepdim) {
    CallFrame f = CallFrame.get();
    try {
      check(
          (int) mh.invokeExact(f.ctx, handle(), dim, keepdim ? 1 : 0, f.outSlot(0), f.outSlot(1)),
          f);
    } catch (Throwable t) {
      throw rethrow(t);
    } finally {
      Reference.reachabilityFence(this);
    }
    return new ValuesIndices(adopt(f.outHandle(0)), adopt(f.outHandle(1)));
  }

  public ValuesIndices max(long dim, boolean keepdim) {
    return reduceDim(Shim.rt_max_dim.MH, dim, keepdim);
  }

  public ValuesIndices min(long dim, boolean keepdim) {
    return reduceDim(Shim.rt_min_dim.MH, dim, keepdim);
  }

  public Tensor argmax(long dim, boolean keepdim) {
    return Ops.argmax(this, dim, keepdim ? 1 : 0);
  }

  public Tensor cumsum(long dim) {
    return Ops.cumsum(this, dim);
  }

  // ---------------------------------------------------------------- linear algebra

  public Tensor matmul(Tensor other) {
    return Ops.matmul(this, other);
  }

  public Tensor bmm(Tensor other) {
    return Ops.bmm(this, other);
  }

  // ---------------------------------------------------------------- in place

  /** {@code this += alpha * other}. */
  public Tensor add_(Tensor other, double alpha) {
    Ops.add_(this, other, alpha);
    return this;
  }

  public Tensor add_(Tensor other) {
    return add_(other, 1.0);
  }

  public Tensor add_(double value) {
    Ops.addScalar_(this, value);
    return this;
  }

  public Tensor mul_(Tensor other) {
    Ops.mul_(this, other);
    return this;
  }

  public Tensor mul_(double value) {
    Ops.mulScalar_(this, value);
    return this;
  }

  /**
   * {@code this + value * t1 * t2}, broadcasting: a gated residual in one pass. ATen's kernel may
   * compute it with one fused multiply-add, so it can differ from {@code add(t1.mul(t2))} in the
   * last bit.
   */
  public Tensor addcmul(Tensor t1, Tensor t2, double value) {
    return Ops.addcmul(this, t1, t2, value);
  }

  /** {@code this += value * t1 * t2}. */
  public Tensor addcmul_(Tensor t1, Tensor t2, double value) {
    Ops.addcmul_(this, t1, t2, value);
    return this;
  }

  /** {@code this += value * t1 / t2}. */
  public Tensor addcdiv_(Tensor t1, Tensor t2, double value) {
    Ops.addcdiv_(this, t1, t2, value);
    return this;
  }

  /** {@code this += weight * (end - this)}. */
  public Tensor lerp_(Tensor end, double weight) {
    Ops.lerp_(this, end, weight);
    return this;
  }

  /** Clamps in place; a NaN bound means "no bound on that side". */
  public Tensor clamp_(double min, double max) {
    Ops.clamp_(this, min, max, Double.isNaN(min) ? 0 : 1, Double.isNaN(max) ? 0 : 1);
    return this;
  }

  /** Copies {@code src} into this tensor (broadcasting, converting dtype and device). */
  public Tensor copy_(Tensor src) {
    Ops.copy_(this, src);
    return this;
  }

  public Tensor zero_() {
    Ops.zero_(this);
    return this;
  }

  public Tensor fill_(double value) {
    Ops.fill_(this, value);
    return this;
  }

  // ---------------------------------------------------------------- autograd

  /** Sets {@code requires_grad} (leaf tensors only, as in PyTorch). */
  public Tensor requiresGrad_(boolean requiresGrad) {
    Ops.setRequiresGrad(this, requiresGrad ? 1 : 0);
    return this;
  }

  /** Backpropagates from this scalar. */
  public void backward() {
    backward(null, false);
  }

  /** Backpropagates with an explicit output gradient (needed for non-scalars). */
  public void backward(Tensor gradient, boolean retainGraph) {
    Ops.backward(this, gradient, retainGraph ? 1 : 0);
  }

  /** The accumulated gradient (a new handle sharing it), or null when there is none. */
  public Tensor grad() {
    return Ops.grad(this);
  }

  /** Replaces the gradient; null clears it ({@code zero_grad(set_to_none=True)}). */
  public void setGrad(Tensor grad) {
    Ops.setGrad(this, grad);
  }

  /** Equality of the Java objects; use {@link #equal(Tensor)} for values. */
  @Override
  public boolean equals(Object o) {
    return this == o;
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(this);
  }
}
