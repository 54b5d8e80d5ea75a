package dev.rectok.torch.io;

import dev.rectok.api.DType;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pickle interpreter for {@code torch.save}'s {@code data.pkl} that never executes anything.
 *
 * <p>Python's unpickler calls whatever callable a GLOBAL names. This VM instead resolves a short
 * allow-list of globals to inert markers and emulates exactly those: {@code OrderedDict()}, the
 * tensor/parameter rebuild functions, {@code torch.Size}, storage types and dtypes. Any other
 * global is refused at the GLOBAL opcode, before anything could be called.
 *
 * <p>Robustness: every length is checked against the remaining bytes before allocating; the stack,
 * the mark stack, the memo, integers, dict keys, tensor ranks and the result's nesting are bounded;
 * each opcode consumes input, and no operation is superlinear, so the run time is linear in the
 * pickle's size. The result's size as a tree (shared memo entries counted at every reference) is
 * bounded linearly in the pickle's size too, so walking it is linear as well. Every failure is a
 * {@link CheckpointFormatException}.
 *
 * <p>Single use, single thread.
 */
final class Unpickler {
  static final int MAX_STACK = 1 << 22;
  static final int MAX_MARKS = 1 << 20;
  static final int MAX_MEMO = 1 << 22;
  static final int MAX_LONG_BYTES = 1 << 10;
  static final int MAX_GLOBAL_NAME = 1 << 10;
  static final int MAX_DEPTH = 256;
  static final int MAX_RANK = 64;
  static final int MAX_KEY_ELEMENTS = 16;
  // Dicts whose keys are not all of one comparable class can degrade Java's HashMap to linear
  // lookups under crafted hash collisions; such dicts are rare in checkpoints, so they are capped.
  static final int MAX_MIXED_DICT = 4096;
  static final int MAX_MIXED_OPS = 1 << 18;

  /** Views that would materialize to more than their storage holds are refused beyond this. */
  static final long MAX_BROADCAST_BYTES = 64L << 20;

  /** Allow-listed callables and classes; inert values that only this VM interprets. */
  enum Fn {
    ORDERED_DICT("collections.OrderedDict"),
    REBUILD_TENSOR_V2("torch._utils._rebuild_tensor_v2"),
    REBUILD_TENSOR_V3("torch._utils._rebuild_tensor_v3"),
    REBUILD_PARAMETER("torch._utils._rebuild_parameter"),
    REBUILD_PARAMETER_WITH_STATE("torch._utils._rebuild_parameter_with_state"),
    REBUILD_FROM_TYPE_V2("torch._tensor._rebuild_from_type_v2"),
    TORCH_SIZE("torch.Size"),
    CODECS_ENCODE("_codecs.encode"), // how protocol 2 pickles bytes: encode(str, 'latin1')
    TENSOR_TYPE("torch.Tensor"),
    PARAMETER_TYPE("torch.nn.Parameter");

    final String pyName;

    Fn(String pyName) {
      this.pyName = pyName;
    }
  }

  /** A storage class: {@code dtype} null for {@code UntypedStorage} (bytes). */
  record StorageType(String pyName, DType dtype) {}

  /** What a persistent id resolves to: a typed view of a storage record. */
  record StorageRef(PthStorage storage, DType dtype, long numel) {}

  private static final Map<String, Object> GLOBALS = new HashMap<>();

  static {
    for (Fn f : Fn.values()) {
      GLOBALS.put(f.pyName, f);
    }
    GLOBALS.put("torch._tensor.Tensor", Fn.TENSOR_TYPE);
    GLOBALS.put("torch.nn.parameter.Parameter", Fn.PARAMETER_TYPE);
    String[][] typed = {
      {"Float", "F32"},
      {"Double", "F64"},
      {"Half", "F16"},
      {"BFloat16", "BF16"},
      {"Long", "I64"},
      {"Int", "I32"},
      {"Short", "I16"},
      {"Char", "I8"},
      {"Byte", "U8"},
      {"Bool", "BOOL"}
    };
    for (String[] t : typed) {
      String n = "torch." + t[0] + "Storage";
      GLOBALS.put(n, new StorageType(n, DType.fromSafetensorsName(t[1])));
    }
    GLOBALS.put("torch.UntypedStorage", new StorageType("torch.UntypedStorage", null));
    GLOBALS.put("torch.storage.UntypedStorage", new StorageType("torch.UntypedStorage", null));
    for (DType d : DType.values()) {
      GLOBALS.put("torch." + d.torchName(), d);
    }
  }

  private static final Class<?> TUPLE_CLASS = tuple(new Object[0]).getClass();

  private final byte[] b;
  private final String where;
  private final PthCheckpoint.Owner owner;
  private int pos;
  private final ArrayList<Object> stack = new ArrayList<>();
  private int[] marks = new int[16];
  private int nMarks;
  private final HashMap<Long, Object> memo = new HashMap<>();
  private final LinkedHashMap<String, PthStorage> storages = new LinkedHashMap<>();
  private final IdentityHashMap<Map<Object, Object>, Class<?>> keyClass = new IdentityHashMap<>();
  private int mixedOps;

  /**
   * @param pickle the bytes of data.pkl
   * @param where prefix for messages: the file and entry
   * @param owner the checkpoint the tensors will belong to
   */
  Unpickler(byte[] pickle, String where, PthCheckpoint.Owner owner) {
    this(pickle, 0, where, owner, false);
  }

  // --- issue 11: legacy (pre-1.6) torch.save files are a sequence of pickles in one buffer ---
  private final boolean legacy;

  /**
   * One pickle of a legacy {@code torch.save} file, starting at {@code offset}; with {@code legacy}
   * the persistent ids are the old 6-tuples (the last, view metadata, must be None).
   */
  Unpickler(byte[] pickle, int offset, String where, PthCheckpoint.Owner owner, boolean legacy) {
    this.b = pickle;
    this.pos = offset;
    this.where = where;
    this.owner = owner;
    this.legacy = legacy;
  }

  /** The offset just after the last opcode read (after {@link #load}: after STOP). */
  int position() {
    return pos;
  }

  // --- end issue 11 ---

  /** Storage records referenced by the pickle, in first-use order, keyed by record name. */
  Map<String, PthStorage> storages() {
    return storages;
  }

  /** Runs the pickle to STOP and checks the result tree. */
  Object load() throws CheckpointFormatException {
    if (b.length == 0) {
      throw bad("empty pickle");
    }
    while (true) {
      int at = pos;
      int op = u8();
      switch (op) {
        case 0x80 -> { // PROTO
          int v = u8();
          if (v < 2 || v > 5) {
            throw bad("pickle protocol " + v + " is not supported (2 to 5 are)");
          }
        }
        case 0x95 -> { // FRAME: advisory framing, nothing to do but check its length
          long n = u64();
          if (n < 0 || n > b.length - pos) {
            throw bad(
                "FRAME of "
                    + Long.toUnsignedString(n)
                    + " bytes at offset "
                    + at
                    + " runs past the end");
          }
        }
        case '}' -> push(new LinkedHashMap<>());
        case ']' -> push(new ArrayList<>());
        case ')' -> push(tuple(new Object[0]));
        case '(' -> {
          if (nMarks == MAX_MARKS) {
            throw bad("too many nested MARKs");
          }
          if (nMarks == marks.length) {
            marks = Arrays.copyOf(marks, nMarks * 2);
          }
          marks[nMarks++] = stack.size();
        }
        case 'X' -> push(utf8(len32()));
        case 0x8c -> push(utf8(u8()));
        case 0x8d -> push(utf8(len64()));
        case 'U' -> push(latin1(u8()));
        case 'T' -> push(latin1(len32signed()));
        case 'C' -> push(bytes(u8()));
        case 'B' -> push(bytes(len32()));
        case 0x8e -> push(bytes(len64()));
        case 'J' -> push((long) i32());
        case 'K' -> push((long) u8());
        case 'M' -> push((long) (u8() | (u8() << 8)));
        case 0x8a -> push(longLE(u8()));
        case 0x8b -> {
          int n = i32();
          if (n < 0 || n > MAX_LONG_BYTES) {
            throw bad("LONG4 of " + n + " bytes at offset " + at + " is out of range");
          }
          push(longLE(n));
        }
        case 'G' -> {
          long bits = 0;
          for (int i = 0; i < 8; i++) {
            bits = (bits << 8) | u8();
          }
          push(Double.longBitsToDouble(bits));
        }
        case 0x88 -> push(Boolean.TRUE);
        case 0x89 -> push(Boolean.FALSE);
        case 'N' -> push(null);
        case 't' -> push(tuple(popMark().toArray()));
        case 0x85 -> push(tuple(new Object[] {pop()}));
        case 0x86 -> {
          Object y = pop();
          Object x = pop();
          push(tuple(new Object[] {x, y}));
        }
        case 0x87 -> {
          Object z = pop();
          Object y = pop();
          Object x = pop();
          push(tuple(new Object[] {x, y, z}));
        }
        case 'l' -> push(new ArrayList<>(popMark()));
        case 'a' -> {
          Object v = pop();
          list(top(), "APPEND").add(v);
        }
        case 'e' -> {
          List<Object> items = popMark();
          list(top(), "APPENDS").addAll(items);
        }
        case 'd' -> {
          List<Object> items = popMark();
          LinkedHashMap<Object, Object> m = new LinkedHashMap<>();
          setItems(m, items);
          push(m);
        }
        case 's' -> {
          Object v = pop();
          Object k = pop();
          setItem(dict(top(), "SETITEM"), k, v);
        }
        case 'u' -> {
          List<Object> items = popMark();
          setItems(dict(top(), "SETITEMS"), items);
        }
        case 'q' -> memoPut(u8());
        case 'r' -> memoPut(i32() & 0xffffffffL);
        case 0x94 -> memoPut(memo.size());
        case 'h' -> push(memoGet(u8()));
        case 'j' -> push(memoGet(i32() & 0xffffffffL));
        case 'c' -> {
          String module = line();
          String name = line();
          push(global(module, name));
        }
        case 0x93 -> {
          Object name = pop();
          Object module = pop();
          if (!(module instanceof String m) || !(name instanceof String n)) {
            throw bad("STACK_GLOBAL at offset " + at + " needs two strings");
          }
          push(global(m, n));
        }
        case 'R' -> {
          Object args = pop();
          Object fn = pop();
          push(reduce(fn, args, at));
        }
        case 0x81 -> { // NEWOBJ: cls.__new__(cls, *args); only OrderedDict is constructible
          Object args = pop();
          Object cls = pop();
          if (cls != Fn.ORDERED_DICT || !isTuple(args) || !((List<?>) args).isEmpty()) {
            throw bad("NEWOBJ at offset " + at + " on " + describe(cls) + " is not allowed");
          }
          push(new LinkedHashMap<>());
        }
        case 'b' -> { // BUILD: only attribute state on a dict (state_dict's _metadata), dropped
          Object state = pop();
          Object obj = top();
          if (!(obj instanceof LinkedHashMap<?, ?>)) {
            throw bad("BUILD at offset " + at + " on " + describe(obj) + " is not allowed");
          }
          if (state != null && !(state instanceof Map<?, ?>) && !isTuple(state)) {
            throw bad("BUILD at offset " + at + " with state " + describe(state));
          }
        }
        case 'Q' -> push(persistentLoad(pop(), at));
        case '0' -> {
          if (stack.size() > base()) {
            stack.removeLast();
          } else if (nMarks > 0) {
            nMarks--;
          } else {
            throw bad("POP on an empty stack at offset " + at);
          }
        }
        case '1' -> popMark();
        case '2' -> push(top());
        case '.' -> {
          Object result = pop();
          checkTree(result);
          return result;
        }
        default ->
            throw bad(String.format("unsupported pickle opcode 0x%02x at offset %d", op, at));
      }
    }
  }

  // ---- globals and calls ----

  private Object global(String module, String name) throws CheckpointFormatException {
    String full = module + "." + name;
    Object g = GLOBALS.get(full);
    if (g == null) {
      throw bad(
          "refusing to unpickle global "
              + printable(full)
              + " (only OrderedDict, torch storages, dtypes and tensor rebuild functions are allowed)");
    }
    return g;
  }

  private Object reduce(Object fn, Object args, int at) throws CheckpointFormatException {
    if (!(fn instanceof Fn f)) {
      throw bad("REDUCE at offset " + at + " calls " + describe(fn) + ", which is not allowed");
    }
    if (!isTuple(args)) {
      throw bad("REDUCE at offset " + at + " with arguments " + describe(args));
    }
    return call(f, (List<?>) args, at);
  }

  private Object call(Fn f, List<?> a, int at) throws CheckpointFormatException {
    String ctx = f.pyName + " at offset " + at;
    switch (f) {
      case ORDERED_DICT -> {
        if (!a.isEmpty()) {
          throw bad(ctx + ": only OrderedDict() without arguments is supported");
        }
        return new LinkedHashMap<>();
      }
      case TORCH_SIZE -> {
        if (a.size() != 1) {
          throw bad(ctx + " takes one sequence");
        }
        long[] sizes = longs(a.get(0), ctx + " sizes", true);
        Object[] items = new Object[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
          items[i] = sizes[i];
        }
        return tuple(items);
      }
      case CODECS_ENCODE -> {
        if (a.isEmpty()
            || a.size() > 2
            || !(a.get(0) instanceof String text)
            || (a.size() == 2 && !(a.get(1) instanceof String))) {
          throw bad(ctx + " takes (str, encoding)");
        }
        String enc =
            a.size() == 2 ? ((String) a.get(1)).toLowerCase(java.util.Locale.ROOT) : "utf-8";
        switch (enc) {
          case "latin1", "latin-1", "iso-8859-1", "iso8859-1" -> {
            byte[] out = new byte[text.length()];
            for (int i = 0; i < out.length; i++) {
              char c = text.charAt(i);
              if (c > 0xff) {
                throw bad(ctx + ": character U+" + Integer.toHexString(c) + " is not latin-1");
              }
              out[i] = (byte) c;
            }
            return out;
          }
          case "utf-8", "utf8" -> {
            return text.getBytes(StandardCharsets.UTF_8);
          }
          default -> throw bad(ctx + ": encoding '" + printable(enc) + "' is not supported");
        }
      }
      case REBUILD_TENSOR_V2, REBUILD_TENSOR_V3 -> {
        boolean v3 = f == Fn.REBUILD_TENSOR_V3;
        int min = v3 ? 7 : 6;
        if (a.size() != min && a.size() != min + 1) {
          throw bad(ctx + " takes " + min + " or " + (min + 1) + " arguments, got " + a.size());
        }
        if (!(a.get(0) instanceof StorageRef s)) {
          throw bad(ctx + ": argument 0 is " + describe(a.get(0)) + ", not a storage");
        }
        long offset = longArg(a.get(1), ctx + " storage_offset");
        long[] size = longs(a.get(2), ctx + " size", false);
        long[] stride = longs(a.get(3), ctx + " stride", false);
        if (!(a.get(4) instanceof Boolean grad)) {
          throw bad(ctx + ": requires_grad is " + describe(a.get(4)));
        }
        // a.get(5) is backward_hooks (an empty OrderedDict in practice); inert, ignored.
        DType dtype = s.dtype();
        if (v3) {
          if (!(a.get(6) instanceof DType d)) {
            throw bad(ctx + ": dtype is " + describe(a.get(6)));
          }
          dtype = d;
        }
        Object meta = a.size() > min ? a.get(min) : null;
        if (meta != null && !(meta instanceof Map<?, ?>)) {
          throw bad(ctx + ": metadata is " + describe(meta));
        }
        return tensor(s, dtype, offset, size, stride, grad, ctx);
      }
      case REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE -> {
        int n = f == Fn.REBUILD_PARAMETER ? 3 : 4;
        if (a.size() != n) {
          throw bad(ctx + " takes " + n + " arguments, got " + a.size());
        }
        if (!(a.get(0) instanceof PthTensor t)) {
          throw bad(ctx + ": data is " + describe(a.get(0)));
        }
        if (!(a.get(1) instanceof Boolean grad)) {
          throw bad(ctx + ": requires_grad is " + describe(a.get(1)));
        }
        return t.asParameter(grad);
      }
      case REBUILD_FROM_TYPE_V2 -> {
        if (a.size() != 4) {
          throw bad(ctx + " takes 4 arguments, got " + a.size());
        }
        Object func = a.get(0);
        if (func != Fn.REBUILD_TENSOR_V2
            && func != Fn.REBUILD_TENSOR_V3
            && func != Fn.REBUILD_PARAMETER
            && func != Fn.REBUILD_PARAMETER_WITH_STATE) {
          throw bad(ctx + " wraps " + describe(func) + ", which is not a tensor rebuild function");
        }
        Object type = a.get(1);
        if (type != Fn.TENSOR_TYPE && type != Fn.PARAMETER_TYPE) {
          throw bad(ctx + " makes a " + describe(type) + ", not a Tensor or Parameter");
        }
        if (!isTuple(a.get(2))) {
          throw bad(ctx + ": args is " + describe(a.get(2)));
        }
        Object r = call((Fn) func, (List<?>) a.get(2), at);
        if (!(r instanceof PthTensor t)) {
          throw bad(ctx + " did not produce a tensor");
        }
        return type == Fn.PARAMETER_TYPE && !t.isParameter() ? t.asParameter(t.requiresGrad()) : t;
      }
      default -> throw bad("calling " + f.pyName + " at offset " + at + " is not allowed");
    }
  }

  private Object persistentLoad(Object pid, int at) throws CheckpointFormatException {
    String ctx = "persistent id at offset " + at;
    if (legacy && isTuple(pid) && ((List<?>) pid).size() == 6) { // issue 11: legacy 6-tuple
      if (((List<?>) pid).get(5) != null) {
        throw bad(ctx + ": storage views (legacy view metadata) are not supported");
      }
      pid = tuple(((List<?>) pid).subList(0, 5).toArray());
    }
    if (!isTuple(pid) || ((List<?>) pid).size() != 5 || !"storage".equals(((List<?>) pid).get(0))) {
      throw bad(ctx + " is " + describe(pid) + ", not ('storage', type, key, location, numel)");
    }
    List<?> p = (List<?>) pid;
    if (!(p.get(1) instanceof StorageType type)) {
      throw bad(ctx + ": storage type is " + describe(p.get(1)));
    }
    if (!(p.get(2) instanceof String key) || key.isEmpty() || key.length() > 256) {
      throw bad(ctx + ": storage key is " + describe(p.get(2)));
    }
    if (!(p.get(3) instanceof String location) || location.length() > 256) {
      throw bad(ctx + ": location is " + describe(p.get(3)));
    }
    long numel = longArg(p.get(4), ctx + " numel");
    if (numel < 0) {
      throw bad(ctx + ": negative numel " + numel);
    }
    DType dtype = type.dtype() == null ? DType.UINT8 : type.dtype();
    long nbytes;
    try {
      nbytes = Math.multiplyExact(numel, (long) dtype.byteSize());
    } catch (ArithmeticException e) {
      throw bad(ctx + ": storage '" + key + "' of " + numel + " elements overflows");
    }
    PthStorage s = storages.get(key);
    if (s == null) {
      s = new PthStorage(key, location, nbytes);
      storages.put(key, s);
    } else if (s.nbytes != nbytes) {
      throw bad(
          ctx
              + ": storage '"
              + key
              + "' is referenced with "
              + s.nbytes
              + " and with "
              + nbytes
              + " bytes");
    }
    return new StorageRef(s, dtype, numel);
  }

  // Checks the view against the storage (overflow-safe) before a tensor exists.
  private PthTensor tensor(
      StorageRef s, DType dtype, long offset, long[] size, long[] stride, boolean grad, String ctx)
      throws CheckpointFormatException {
    if (size.length != stride.length) {
      throw bad(
          ctx
              + ": size "
              + Arrays.toString(size)
              + " and stride "
              + Arrays.toString(stride)
              + " differ in rank");
    }
    if (offset < 0) {
      throw bad(ctx + ": negative storage offset " + offset);
    }
    for (int i = 0; i < size.length; i++) {
      if (size[i] < 0 || stride[i] < 0) {
        throw bad(
            ctx
                + ": negative size or stride in "
                + Arrays.toString(size)
                + " / "
                + Arrays.toString(stride));
      }
    }
    int es = dtype.byteSize();
    long storageBytes = s.storage().nbytes;
    try {
      long numel = HostTensor.numel(size);
      long dense = Math.multiplyExact(numel, (long) es);
      if (numel > 0) {
        long last = offset;
        for (int i = 0; i < size.length; i++) {
          last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));
        }
        long need = Math.multiplyExact(Math.addExact(last, 1), (long) es);
        if (need > storageBytes) {
          throw bad(
              ctx
                  + ": view "
                  + dtype
                  + Arrays.toString(size)
                  + " stride "
                  + Arrays.toString(stride)
                  + " offset "
                  + offset
                  + " needs "
                  + need
                  + " bytes but storage '"
                  + s.storage().key
                  + "' has "
                  + storageBytes);
        }
      }
      if (dense > storageBytes && dense > MAX_BROADCAST_BYTES) {
        throw bad(
            ctx
                + ": view "
                + dtype
                + Arrays.toString(size)
                + " would expand its "
                + storageBytes
                + "-byte storage to "
                + dense
                + " bytes");
      }
    } catch (ArithmeticException e) {
      throw bad(
          ctx
              + ": view "
              + Arrays.toString(size)
              + " stride "
              + Arrays.toString(stride)
              + " offset "
              + offset
              + " overflows");
    }
    return new PthTensor(dtype, size, stride, offset, s.storage(), grad, false, owner);
  }

  private long longArg(Object o, String what) throws CheckpointFormatException {
    if (!(o instanceof Long l)) {
      throw bad(what + " is " + describe(o) + ", not a 64-bit int");
    }
    return l;
  }

  // A shape or stride: a tuple/list (torch.Size is a tuple) of at most MAX_RANK ints.
  private long[] longs(Object o, String what, boolean allowList) throws CheckpointFormatException {
    if (!isTuple(o) && !(allowList && o instanceof ArrayList<?>)) {
      throw bad(what + " is " + describe(o) + ", not a tuple");
    }
    List<?> l = (List<?>) o;
    if (l.size() > MAX_RANK) {
      throw bad(what + " has rank " + l.size() + " > " + MAX_RANK);
    }
    long[] r = new long[l.size()];
    for (int i = 0; i < r.length; i++) {
      r[i] = longArg(l.get(i), what + "[" + i + "]");
    }
    return r;
  }

  // ---- containers ----

  static List<Object> tuple(Object[] items) {
    return Collections.unmodifiableList(Arrays.asList(items));
  }

  static boolean isTuple(Object o) {
    return o != null && o.getClass() == TUPLE_CLASS;
  }

  @SuppressWarnings("unchecked")
  private List<Object> list(Object o, String op) throws CheckpointFormatException {
    if (!(o instanceof ArrayList<?>)) {
      throw bad(op + " on " + describe(o) + ", not a list");
    }
    return (List<Object>) o;
  }

  @SuppressWarnings("unchecked")
  private Map<Object, Object> dict(Object o, String op) throws CheckpointFormatException {
    if (!(o instanceof LinkedHashMap<?, ?>)) {
      throw bad(op + " on " + describe(o) + ", not a dict");
    }
    return (Map<Object, Object>) o;
  }

  private void setItems(Map<Object, Object> m, List<Object> items)
      throws CheckpointFormatException {
    if ((items.size() & 1) != 0) {
      throw bad("odd number of items (" + items.size() + ") for a dict");
    }
    for (int i = 0; i < items.size(); i += 2) {
      setItem(m, items.get(i), items.get(i + 1));
    }
  }

  private void setItem(Map<Object, Object> m, Object k, Object v) throws CheckpointFormatException {
    checkKey(k, 0, new int[] {0});
    Class<?> kc = k == null ? Void.class : k.getClass();
    Class<?> first = keyClass.putIfAbsent(m, kc);
    boolean safe =
        (first == null || first == kc)
            && (kc == String.class
                || kc == Long.class
                || kc == Double.class
                || kc == Boolean.class
                || kc == BigInteger.class);
    if (!safe) {
      keyClass.put(m, Object.class); // once mixed, stays mixed
      if (m.size() >= MAX_MIXED_DICT || ++mixedOps > MAX_MIXED_OPS) {
        throw bad("too many entries in dicts with mixed or tuple keys");
      }
    }
    m.put(k, v);
  }

  // Python would hash the key; only immutable scalars and small tuples of them are accepted.
  private void checkKey(Object k, int depth, int[] count) throws CheckpointFormatException {
    if (++count[0] > MAX_KEY_ELEMENTS || depth > 4) {
      throw bad("dict key is too large a tuple");
    }
    if (k == null
        || k instanceof String
        || k instanceof Long
        || k instanceof Double
        || k instanceof Boolean
        || k instanceof BigInteger) {
      return;
    }
    if (isTuple(k)) {
      for (Object e : (List<?>) k) {
        checkKey(e, depth + 1, count);
      }
      return;
    }
    throw bad("unsupported dict key " + describe(k));
  }

  // ---- stack and memo ----

  private int base() {
    return nMarks == 0 ? 0 : marks[nMarks - 1];
  }

  private void push(Object o) throws CheckpointFormatException {
    if (stack.size() >= MAX_STACK) {
      throw bad("pickle stack exceeds " + MAX_STACK + " entries");
    }
    stack.add(o);
  }

  private Object pop() throws CheckpointFormatException {
    if (stack.size() <= base()) {
      throw bad("pickle stack underflow at offset " + (pos - 1));
    }
    return stack.removeLast();
  }

  private Object top() throws CheckpointFormatException {
    if (stack.size() <= base()) {
      throw bad("pickle stack underflow at offset " + (pos - 1));
    }
    return stack.getLast();
  }

  private List<Object> popMark() throws CheckpointFormatException {
    if (nMarks == 0) {
      throw bad("no MARK to pop to at offset " + (pos - 1));
    }
    int from = marks[--nMarks];
    List<Object> tail = stack.subList(from, stack.size());
    List<Object> items = new ArrayList<>(tail);
    tail.clear();
    return items;
  }

  private void memoPut(long idx) throws CheckpointFormatException {
    if (memo.size() >= MAX_MEMO && !memo.containsKey(idx)) {
      throw bad("pickle memo exceeds " + MAX_MEMO + " entries");
    }
    memo.put(idx, top());
  }

  private Object memoGet(long idx) throws CheckpointFormatException {
    if (!memo.containsKey(idx)) {
      throw bad("memo entry " + idx + " read before it was written (offset " + (pos - 1) + ")");
    }
    return memo.get(idx);
  }

  // ---- input ----

  private int u8() throws CheckpointFormatException {
    if (pos >= b.length) {
      throw bad("pickle is truncated at offset " + pos + " (no STOP)");
    }
    return b[pos++] & 0xff;
  }

  private int i32() throws CheckpointFormatException {
    need(4);
    int v =
        (b[pos] & 0xff)
            | (b[pos + 1] & 0xff) << 8
            | (b[pos + 2] & 0xff) << 16
            | (b[pos + 3] & 0xff) << 24;
    pos += 4;
    return v;
  }

  private long u64() throws CheckpointFormatException {
    need(8);
    long v = 0;
    for (int i = 7; i >= 0; i--) {
      v = (v << 8) | (b[pos + i] & 0xff);
    }
    pos += 8;
    return v;
  }

  private long len32() throws CheckpointFormatException {
    return i32() & 0xffffffffL;
  }

  private long len32signed() throws CheckpointFormatException {
    int n = i32();
    if (n < 0) {
      throw bad("negative string length " + n + " at offset " + (pos - 4));
    }
    return n;
  }

  private long len64() throws CheckpointFormatException {
    long n = u64();
    if (n < 0) {
      throw bad(
          "length " + Long.toUnsignedString(n) + " at offset " + (pos - 8) + " runs past the end");
    }
    return n;
  }

  private void need(long n) throws CheckpointFormatException {
    if (n > b.length - pos) {
      throw bad(
          "pickle is truncated: "
              + n
              + " bytes needed at offset "
              + pos
              + ", "
              + (b.length - pos)
              + " left");
    }
  }

  private String utf8(long n) throws CheckpointFormatException {
    need(n);
    int start = pos;
    pos += (int) n;
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b, start, (int) n))
          .toString();
    } catch (CharacterCodingException e) {
      throw bad("invalid UTF-8 string at offset " + start);
    }
  }

  private String latin1(long n) throws CheckpointFormatException {
    need(n);
    String s = new String(b, pos, (int) n, StandardCharsets.ISO_8859_1);
    pos += (int) n;
    return s;
  }

  private byte[] bytes(long n) throws CheckpointFormatException {
    need(n);
    byte[] r = Arrays.copyOfRange(b, pos, pos + (int) n);
    pos += (int) n;
    return r;
  }

  // Little-endian two's complement, as LONG1/LONG4 store it.
  private Object longLE(int n) throws CheckpointFormatException {
    need(n);
    if (n == 0) {
      return 0L;
    }
    byte[] be = new byte[n];
    for (int i = 0; i < n; i++) {
      be[i] = b[pos + n - 1 - i];
    }
    pos += n;
    BigInteger v = new BigInteger(be);
    return v.bitLength() < 64 ? (Object) v.longValue() : v;
  }

  private String line() throws CheckpointFormatException {
    int end = pos;
    int limit = (int) Math.min(b.length, (long) pos + MAX_GLOBAL_NAME);
    while (end < limit && b[end] != '\n') {
      end++;
    }
    if (end >= limit) {
      throw bad("GLOBAL name at offset " + pos + " is unterminated or too long");
    }
    String s = utf8(end - pos);
    pos++; // the newline
    return s;
  }

  // ---- result check ----

  /**
   * Rejects cycles, leftover interpreter values (a bare storage or class as a value) and nesting
   * deeper than {@link #MAX_DEPTH}, so the tree is safe for recursive equals/hashCode/toString.
   * Iterative, linear in the number of container entries.
   */
  private void checkTree(Object root) throws CheckpointFormatException {
    // Post-order walk with each container visited once. Alongside its height, each container's
    // size as a tree (memo entries counted at every reference) is summed and held to a budget
    // linear in the pickle's length, so that a small "billion laughs" DAG of shared memo entries
    // is refused here instead of making every later walk (inspect, convert) exponential.
    long budget = InputLimits.maxPickleNodes(b.length);
    IdentityHashMap<Object, long[]> done = new IdentityHashMap<>(); // {height, tree size}
    IdentityHashMap<Object, Boolean> open = new IdentityHashMap<>();
    ArrayList<Object> nodes = new ArrayList<>();
    ArrayList<Iterator<?>> iters = new ArrayList<>();
    ArrayList<long[]> acc = new ArrayList<>(); // per open node: {max child height, size so far}
    if (!checkLeafOrContainer(root)) {
      return;
    }
    nodes.add(root);
    iters.add(children(root));
    acc.add(new long[] {0, 1});
    open.put(root, Boolean.TRUE);
    while (!nodes.isEmpty()) {
      Iterator<?> it = iters.getLast();
      if (it.hasNext()) {
        Object c = it.next();
        long[] a = acc.getLast();
        if (!checkLeafOrContainer(c)) {
          grow(a, 1, budget);
          continue;
        }
        long[] hs = done.get(c);
        if (hs != null) {
          a[0] = Math.max(a[0], hs[0]);
          grow(a, hs[1], budget);
        } else if (open.containsKey(c)) {
          throw bad("object tree contains a cycle (a container inside itself)");
        } else {
          if (nodes.size() >= MAX_DEPTH) {
            throw bad("object tree nests deeper than " + MAX_DEPTH + " levels");
          }
          open.put(c, Boolean.TRUE);
          nodes.add(c);
          iters.add(children(c));
          acc.add(new long[] {0, 1});
        }
      } else {
        Object finished = nodes.removeLast();
        iters.removeLast();
        long[] a = acc.removeLast();
        long h = a[0] + 1;
        if (h > MAX_DEPTH) {
          throw bad("object tree nests deeper than " + MAX_DEPTH + " levels");
        }
        open.remove(finished);
        done.put(finished, new long[] {h, a[1]});
        if (!acc.isEmpty()) {
          long[] p = acc.getLast();
          p[0] = Math.max(p[0], h);
          grow(p, a[1], budget);
        }
      }
    }
  }

  private void grow(long[] acc, long n, long budget) throws CheckpointFormatException {
    acc[1] += n; // both at most the budget, so no overflow
    if (acc[1] > budget) {
      throw bad(
          "the pickle's objects expand to more than "
              + budget
              + " values when shared memo "
              + "entries are counted at each reference ("
              + b.length
              + " bytes of pickle; limit "
              + "rectok.io.pickleExpansionPerByte per byte plus "
              + InputLimits.PICKLE_EXPANSION_BASE
              + "): refusing a memo-reference bomb");
    }
  }

  /** True for containers; false for accepted leaves; throws for interpreter-only values. */
  private boolean checkLeafOrContainer(Object o) throws CheckpointFormatException {
    if (o instanceof ArrayList<?> || isTuple(o) || o instanceof LinkedHashMap<?, ?>) {
      return true;
    }
    if (o == null
        || o instanceof String
        || o instanceof Long
        || o instanceof BigInteger
        || o instanceof Double
        || o instanceof Boolean
        || o instanceof byte[]
        || o instanceof PthTensor
        || o instanceof DType) {
      return false;
    }
    throw bad("unsupported value in the result: " + describe(o));
  }

  private static Iterator<?> children(Object o) {
    if (o instanceof Map<?, ?> m) {
      // keys are scalars or small tuples of scalars (checkKey), only values can nest
      return m.values().iterator();
    }
    return ((List<?>) o).iterator();
  }

  // ---- messages ----

  private static String describe(Object o) {
    if (o == null) {
      return "None";
    }
    if (o instanceof Fn f) {
      return f.pyName;
    }
    if (o instanceof StorageType t) {
      return t.pyName();
    }
    if (o instanceof StorageRef r) {
      return "a storage";
    }
    if (isTuple(o)) {
      return "a tuple of " + ((List<?>) o).size();
    }
    if (o instanceof DType d) {
      return d.toString();
    }
    if (o instanceof String s) {
      return "'" + printable(s.length() > 40 ? s.substring(0, 40) + "..." : s) + "'";
    }
    return "a " + o.getClass().getSimpleName();
  }

  private static String printable(String s) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length() && i < 200; i++) {
      char c = s.charAt(i);
      sb.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
    }
    return sb.toString();
  }

  private CheckpointFormatException bad(String problem) {
    return new CheckpointFormatException(where + ": " + problem);
  }
}
