package dev.rectok.torch.internal;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds, loads and configures {@code librectok_torch.so}, once per process.
 *
 * <p>Resolution order: system property {@code rectok.native.lib}, environment variable {@code
 * RECTOK_NATIVE_LIB}, then the copy bundled in this jar (extracted to a per-content cache
 * directory: {@code -Drectok.native.cache}, else {@code ~/.cache/rectok/native}, else the temporary
 * directory when the cache is not writable). Always by absolute path. A load failure is kept: every
 * later call throws the same {@link IllegalStateException}, naming what is missing (the platform,
 * the library dlopen could not find) and the fix, with the original cause. Before LibTorch is
 * loaded, {@code OMP_WAIT_POLICY} is set to {@code PASSIVE} unless the user set it: libgomp reads
 * it at load time, and spinning OpenMP threads otherwise steal the cores from OpenBLAS.
 * Thread-safe.
 */
@SuppressWarnings(
    "restricted") // binding the shim is this class's job; --enable-native-access is documented
public final class NativeLibrary {
  private static final System.Logger LOG = System.getLogger(NativeLibrary.class.getName());
  private static final String RESOURCE = "/dev/rectok/torch/native/linux-x86_64/librectok_torch.so";
  private static final Map<String, FunctionDescriptor> SIGNATURES = new ConcurrentHashMap<>();
  private static final Linker LINKER = Linker.nativeLinker();

  private NativeLibrary() {}

  /**
   * The outcome of loading, computed once: either the loaded library or the failure. A failure is
   * kept rather than thrown from a static initializer, so every call reports the same {@link
   * IllegalStateException} with the original cause (a static initializer would give {@code
   * ExceptionInInitializerError} once and {@code NoClassDefFoundError} after).
   */
  private record State(
      Path path, SymbolLookup lookup, String source, IllegalStateException failure) {}

  /** The holder idiom makes loading happen once, on first use. */
  private static final class Loaded {
    static final State STATE = load();
  }

  private static State state() {
    State s = Loaded.STATE;
    if (s.failure() != null) {
      IllegalStateException f = s.failure();
      throw new IllegalStateException(f.getMessage(), f.getCause() != null ? f.getCause() : f);
    }
    return s;
  }

  private static State load() {
    String source = "?";
    try {
      String[] found = locate();
      source = found[1];
      Path path = Path.of(found[0]).toAbsolutePath();
      if (!Files.isRegularFile(path)) {
        throw new IllegalStateException(
            "RecTok native library not found at "
                + path
                + " (from "
                + source
                + "). Build it with "
                + "native/build.sh or mvn package, or point -Drectok.native.lib / RECTOK_NATIVE_LIB at it.");
      }
      setDefaultEnv("OMP_WAIT_POLICY", System.getProperty("rectok.ompWaitPolicy", "PASSIVE"));
      // LibTorch builds linked with UCX (Debian 13's, via its distributed backends) install a
      // SIGSEGV handler at load time that aborts on the JVM's own implicit null checks.
      setDefaultEnv("UCX_ERROR_SIGNALS", "");
      SymbolLookup lookup;
      try {
        lookup = SymbolLookup.libraryLookup(path, Arena.global());
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException(
            "cannot load "
                + path
                + " (from "
                + source
                + "): "
                + dlopenError(path)
                + ". The shim needs LibTorch "
                + LIBTORCH
                + " for "
                + PLATFORM
                + " where it was built against: "
                + "apt-get install libtorch-dev libopenblas0-pthread (Debian), or point -Drectok.native.lib at a "
                + "shim built against your LibTorch (native/build.sh)",
            e);
      }
      LOG.log(System.Logger.Level.DEBUG, "loaded {0} ({1})", path, source);
      configureRuntime(lookup);
      return new State(path, lookup, source, null);
    } catch (IllegalStateException e) {
      return new State(null, null, source, e);
    } catch (RuntimeException | Error e) {
      return new State(
          null,
          null,
          source,
          new IllegalStateException("cannot load the RecTok native library: " + e, e));
    }
  }

  /** The platform the bundled shim is built for (the jar's classifier). */
  static final String PLATFORM = "linux-x86_64";

  /** The LibTorch the bundled shim is built against (Debian's libtorch-dev). */
  static final String LIBTORCH = "1.13";

  /**
   * dlopen's own message (it names the missing dependency, e.g. libtorch_cpu.so), or a generic one.
   */
  private static String dlopenError(Path path) {
    try (Arena arena = Arena.ofConfined()) {
      SymbolLookup libc = LINKER.defaultLookup();
      MethodHandle dlopen =
          LINKER.downcallHandle(
              libc.findOrThrow("dlopen"),
              FunctionDescriptor.of(
                  ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
      MethodHandle dlerror =
          LINKER.downcallHandle(
              libc.findOrThrow("dlerror"), FunctionDescriptor.of(ValueLayout.ADDRESS));
      MemorySegment h =
          (MemorySegment) dlopen.invokeExact(arena.allocateFrom(path.toString()), 2 /* RTLD_NOW */);
      if (!h.equals(MemorySegment.NULL)) {
        return "the JDK could not open it, though dlopen can";
      }
      MemorySegment msg = (MemorySegment) dlerror.invokeExact();
      return msg.equals(MemorySegment.NULL) ? "dlopen failed" : msg.reinterpret(4096).getString(0);
    } catch (Throwable t) {
      return "dlopen failed (" + t + ")";
    }
  }

  /** What {@link #configureRuntime} decided, for {@code rectok doctor}. */
  private static volatile String runtimeDefaults = "";

  /** The process-level defaults applied at load time, described. */
  public static String runtimeDefaults() {
    path();
    return runtimeDefaults;
  }

  /**
   * Checks the ABI and applies the CPU defaults: intra-op threads = cores (LibTorch 1.13 picks
   * half), and glibc heap retention so large activations are not re-faulted on every call. Bound
   * directly, not through {@link Shim}, because Shim's holders need this class loaded.
   */
  private static void configureRuntime(SymbolLookup lookup) {
    try (Arena arena = Arena.ofConfined()) {
      MethodHandle abi =
          LINKER.downcallHandle(
              lookup.findOrThrow("rt_abi_version"), FunctionDescriptor.of(ValueLayout.JAVA_INT));
      int version = (int) abi.invokeExact();
      if (version != Shim.RT_ABI_VERSION) {
        throw new IllegalStateException(
            "native shim ABI "
                + version
                + " does not match the Java bindings' "
                + Shim.RT_ABI_VERSION
                + ": rebuild the shim (native/build.sh) or use matching jars");
      }
      MemorySegment ctx = arena.allocate(Shim.RT_CTX_SIZE, 8);
      StringBuilder applied = new StringBuilder();
      String prop = System.getProperty("rectok.numThreads");
      boolean envSet =
          System.getenv("OMP_NUM_THREADS") != null || System.getenv("MKL_NUM_THREADS") != null;
      if (prop != null || !envSet) {
        int n =
            prop != null
                ? Integer.parseInt(prop.trim())
                : Runtime.getRuntime().availableProcessors();
        MethodHandle set =
            LINKER.downcallHandle(
                lookup.findOrThrow("rt_set_num_threads"),
                FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        int rc = (int) set.invokeExact(ctx, n);
        applied
            .append(rc == 0 ? "intra-op threads set to " + n : "setting threads failed")
            .append(prop != null ? " (rectok.numThreads)" : " (cores)");
      } else {
        applied.append("intra-op threads from OMP_NUM_THREADS/MKL_NUM_THREADS");
      }
      if (!"false".equals(System.getProperty("rectok.heapRetention"))) {
        int rc =
            configure(
                lookup, ctx, "rt_configure_malloc", 1L << 30, Integer.MAX_VALUE * 1L, 256L << 20);
        applied.append(rc == 0 ? "; glibc heap retention on" : "; heap retention refused by glibc");
      } else {
        applied.append("; heap retention off (rectok.heapRetention=false)");
      }
      if (!"false".equals(System.getProperty("rectok.blockAllocator"))) {
        long min = Long.getLong("rectok.blockAllocator.minBytes", 1L << 20);
        long cache = Long.getLong("rectok.blockAllocator.cacheBytes", 1L << 30);
        int rc = configure(lookup, ctx, "rt_configure_cpu_allocator", min, cache);
        applied.append(rc == 0 ? "; block allocator on" : "; block allocator refused");
      }
      runtimeDefaults = applied.toString();
    } catch (IllegalStateException e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("cannot configure the native runtime: " + t, t);
    }
  }

  /** Absolute path of the loaded shim (loads it if needed). */
  public static Path path() {
    return state().path();
  }

  /** Where the path came from: the property, the environment variable, or the bundled copy. */
  public static String source() {
    return state().source();
  }

  /** Binds {@code name}; records its descriptor for the header check. */
  public static MethodHandle downcall(
      String name, FunctionDescriptor fd, Linker.Option... options) {
    State st = state();
    MemorySegment symbol =
        st.lookup()
            .find(name)
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "symbol "
                            + name
                            + " missing from "
                            + st.path()
                            + ": the shim is older than the Java bindings; rebuild it"));
    SIGNATURES.put(name, fd);
    return LINKER.downcallHandle(symbol, fd, options);
  }

  /** Descriptors of every function bound so far, by C name. */
  public static Map<String, FunctionDescriptor> boundSignatures() {
    return Map.copyOf(SIGNATURES);
  }

  private static String[] locate() {
    String prop = System.getProperty("rectok.native.lib");
    if (prop != null && !prop.isBlank()) {
      return new String[] {prop, "system property rectok.native.lib"};
    }
    String env = System.getenv("RECTOK_NATIVE_LIB");
    if (env != null && !env.isBlank()) {
      return new String[] {env, "environment variable RECTOK_NATIVE_LIB"};
    }
    checkPlatform(System.getProperty("os.name"), System.getProperty("os.arch"));
    try {
      return new String[] {extractBundled().toString(), "bundled in the rectok-native jar"};
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot extract the bundled native library: " + e.getMessage(), e);
    }
  }

  /**
   * The bundled shim runs on Linux x86-64 only; elsewhere the message says so before any load.
   *
   * @throws IllegalStateException naming this platform and what to do
   */
  static void checkPlatform(String os, String arch) {
    if (os == null
        || !os.toLowerCase(java.util.Locale.ROOT).startsWith("linux")
        || !("amd64".equals(arch) || "x86_64".equals(arch))) {
      throw new IllegalStateException(
          "the native library bundled in rectok-native is built for "
              + PLATFORM
              + " (LibTorch "
              + LIBTORCH
              + ", CPU), but this is "
              + os
              + " "
              + arch
              + ": build the shim for this "
              + "platform (native/build.sh) and pass -Drectok.native.lib=PATH");
    }
  }

  private static Path extractBundled() throws IOException {
    byte[] bytes;
    InputStream found = NativeLibrary.class.getResourceAsStream(RESOURCE);
    if (found == null && NativeLibrary.class.getClassLoader() != null) {
      // the platform classifier jar (rectok-native-*-linux-x86_64-cpu.jar) on the class path
      found = NativeLibrary.class.getClassLoader().getResourceAsStream(RESOURCE.substring(1));
    }
    try (InputStream in = found) {
      if (in == null) {
        throw new IOException(
            "this rectok-native jar carries no "
                + RESOURCE.substring(1)
                + " (librectok_torch.so for "
                + PLATFORM
                + "); set -Drectok.native.lib or RECTOK_NATIVE_LIB");
      }
      bytes = in.readAllBytes();
    }
    return extract(bytes, cacheDirectories());
  }

  /**
   * Where the bundled library may be extracted, in order: {@code -Drectok.native.cache}, the user's
   * cache ({@code $XDG_CACHE_HOME} or {@code ~/.cache}) under {@code rectok/native}, then the
   * temporary directory (for a read-only home, as in containers).
   */
  static java.util.List<Path> cacheDirectories() {
    java.util.List<Path> dirs = new java.util.ArrayList<>();
    String prop = System.getProperty("rectok.native.cache");
    if (prop != null && !prop.isBlank()) {
      dirs.add(Path.of(prop));
    }
    String base =
        System.getenv().getOrDefault("XDG_CACHE_HOME", System.getProperty("user.home") + "/.cache");
    dirs.add(Path.of(base, "rectok", "native"));
    dirs.add(
        Path.of(
            System.getProperty("java.io.tmpdir"),
            "rectok-native-" + System.getProperty("user.name", "user")));
    return dirs;
  }

  /**
   * Writes {@code bytes} to {@code <dir>/<sha-256 prefix>/librectok_torch.so} in the first
   * directory that accepts it (atomically; an existing copy of the same content is reused).
   *
   * @throws IOException listing every directory tried and why it failed, and the fix
   */
  static Path extract(byte[] bytes, java.util.List<Path> dirs) throws IOException {
    String digest;
    try {
      digest =
          HexFormat.of()
              .formatHex(MessageDigest.getInstance("SHA-256").digest(bytes))
              .substring(0, 16);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IOException(e);
    }
    StringBuilder failures = new StringBuilder();
    for (Path base : dirs) {
      Path dir = base.resolve(digest);
      Path lib = dir.resolve("librectok_torch.so");
      try {
        if (!Files.isRegularFile(lib) || Files.size(lib) != bytes.length) {
          Files.createDirectories(dir);
          Path tmp = Files.createTempFile(dir, "lib", ".tmp");
          Files.write(tmp, bytes);
          Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        return lib;
      } catch (IOException | UnsupportedOperationException | SecurityException e) {
        failures.append(failures.isEmpty() ? "" : "; ").append(dir).append(": ").append(e);
        LOG.log(
            System.Logger.Level.DEBUG,
            "cannot extract the native library to {0}: {1}",
            dir,
            e.toString());
      }
    }
    throw new IOException(
        "no writable directory for librectok_torch.so (tried "
            + failures
            + "); set -Drectok.native.cache=DIR to a writable directory");
  }

  /** Calls {@code rt_status name(rt_ctx*, int64_t...)} once, before the generated bindings load. */
  private static int configure(SymbolLookup lookup, MemorySegment ctx, String name, long... args)
      throws Throwable {
    MemoryLayout[] params = new MemoryLayout[args.length + 1];
    params[0] = ValueLayout.ADDRESS;
    java.util.Arrays.fill(params, 1, params.length, ValueLayout.JAVA_LONG);
    MethodHandle h =
        LINKER.downcallHandle(
            lookup.findOrThrow(name), FunctionDescriptor.of(ValueLayout.JAVA_INT, params));
    Object[] all = new Object[args.length + 1];
    all[0] = ctx;
    for (int i = 0; i < args.length; i++) {
      all[i + 1] = args[i];
    }
    return (int) h.invokeWithArguments(all);
  }

  /** setenv(name, value, 0) in this process, so native libraries loaded later see it. */
  private static void setDefaultEnv(String name, String value) {
    if (value == null || System.getenv(name) != null) {
      return;
    }
    try (Arena arena = Arena.ofConfined()) {
      MethodHandle setenv =
          LINKER.downcallHandle(
              LINKER.defaultLookup().findOrThrow("setenv"),
              FunctionDescriptor.of(
                  ValueLayout.JAVA_INT,
                  ValueLayout.ADDRESS,
                  ValueLayout.ADDRESS,
                  ValueLayout.JAVA_INT));
      int rc = (int) setenv.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), 0);
      if (rc != 0) {
        LOG.log(System.Logger.Level.WARNING, "setenv({0}) failed", name);
      }
    } catch (Throwable t) {
      LOG.log(System.Logger.Level.WARNING, "cannot set {0}: {1}", name, t.toString());
    }
  }
}
