package dev.rectok.torch.gen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Generates the FFM bindings of {@code native/include/rectok_torch.h} at build time (Maven's
 * generate-sources phase runs it as a single-file program): {@code dev.rectok.torch.internal.Shim}
 * (constants and one lazily bound downcall handle per C function) and the package-private {@code
 * dev.rectok.torch.Ops} (one typed wrapper per mechanical function: a status-returning call whose
 * parameters are handles, scalars, {@code (int64_t*, int64_t)} arrays and {@code (rt_tensor**,
 * int64_t)} lists, ending in at most one {@code rt_tensor** out}).
 *
 * <p>The header is the single source of truth: a new op is its header line, its C++ body and, where
 * the public API needs more than a wrapper, a hand-written method calling {@code Ops}. A header
 * line outside the grammar stops the build with the line named.
 *
 * <p>Stateless; {@link #generate(String)} is a pure function of the header text.
 */
public final class BindingGenerator {
  private static final Pattern DECL =
      Pattern.compile("^RT_API\\s+(.+?)\\s+(rt_\\w+)\\s*\\((.*)\\)\\s+RT_NOEXCEPT;\\s*$");
  private static final Pattern DEFINE =
      Pattern.compile("^#define\\s+(RT_[A-Z0-9_]+)\\s+(-?\\d+)\\s*$");
  private static final Set<String> JAVA_KEYWORDS =
      Set.of(
          "abstract",
          "boolean",
          "byte",
          "case",
          "catch",
          "char",
          "class",
          "const",
          "default",
          "do",
          "double",
          "else",
          "enum",
          "final",
          "finally",
          "float",
          "for",
          "goto",
          "if",
          "import",
          "int",
          "interface",
          "long",
          "native",
          "new",
          "package",
          "private",
          "protected",
          "public",
          "return",
          "short",
          "static",
          "super",
          "switch",
          "synchronized",
          "this",
          "throw",
          "throws",
          "transient",
          "try",
          "void",
          "volatile",
          "while",
          "f",
          "thrown");

  private BindingGenerator() {}

  /** One C parameter: its type with spaces normalised ({@code rt_tensor*}) and its name. */
  public record Param(String type, String name) {}

  /** One declaration of the header. */
  public record Function(String name, String returnType, List<Param> params) {}

  /** What the header declares, in order. */
  public record Header(List<Function> functions, Map<String, Long> constants) {}

  /** Thrown for a header line outside the grammar the generator understands. */
  public static final class GrammarException extends IllegalArgumentException {
    GrammarException(String message) {
      super(message);
    }
  }

  /** Usage: {@code java BindingGenerator.java <header> <output source root>}. */
  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: BindingGenerator <rectok_torch.h> <generated source root>");
      System.exit(2);
    }
    Map<String, String> files;
    try {
      files = generate(Files.readString(Path.of(args[0]), StandardCharsets.UTF_8));
    } catch (GrammarException e) {
      System.err.println(args[0] + ": " + e.getMessage());
      System.exit(1);
      return;
    }
    for (var e : files.entrySet()) {
      Path p = Path.of(args[1]).resolve(e.getKey());
      Files.createDirectories(p.getParent());
      // Rewrite only on change, so an unchanged header does not force recompilation.
      if (!Files.exists(p) || !Files.readString(p, StandardCharsets.UTF_8).equals(e.getValue())) {
        Files.writeString(p, e.getValue(), StandardCharsets.UTF_8);
      }
    }
  }

  /** Parses the header; every line starting with {@code RT_API} must be one whole declaration. */
  public static Header parse(String text) {
    List<Function> functions = new ArrayList<>();
    Map<String, Long> constants = new LinkedHashMap<>();
    int lineNo = 0;
    for (String raw : text.split("\n", -1)) {
      lineNo++;
      String line = raw.strip();
      if (line.startsWith("RT_API")) {
        Matcher m = DECL.matcher(line);
        if (!m.matches()) {
          throw new GrammarException(
              "line "
                  + lineNo
                  + ": declaration not on one line or not in the header grammar: "
                  + line);
        }
        List<Param> params = new ArrayList<>();
        String p = m.group(3).strip();
        if (!p.equals("void") && !p.isEmpty()) {
          for (String param : p.split(",")) {
            String decl = param.strip().replace("const ", "");
            int cut = Math.max(decl.lastIndexOf(' '), decl.lastIndexOf('*'));
            if (cut <= 0 || cut == decl.length() - 1) {
              throw new GrammarException(
                  "line " + lineNo + ": parameter without a type and a name: '" + decl + "'");
            }
            String type = decl.substring(0, cut + 1).replaceAll("\\s+", "");
            checkType(type, lineNo);
            params.add(new Param(type, decl.substring(cut + 1).strip()));
          }
        }
        String ret = m.group(1).replaceAll("\\s+", "");
        if (!ret.equals("void")) {
          checkType(ret, lineNo);
        }
        functions.add(new Function(m.group(2), ret, List.copyOf(params)));
      } else if (line.startsWith("#define RT_")) {
        Matcher m = DEFINE.matcher(line);
        if (m.matches()) {
          constants.put(m.group(1), Long.parseLong(m.group(2)));
        }
      }
    }
    return new Header(List.copyOf(functions), constants);
  }

  private static void checkType(String type, int lineNo) {
    layout(type)
        .orElseThrow(
            () ->
                new GrammarException(
                    "line " + lineNo + ": type outside the ABI's allowed set: '" + type + "'"));
  }

  /**
   * The Shim layout constant for a C type: H (handle), P (address), I, L, D; empty if not allowed.
   */
  static java.util.Optional<String> layout(String type) {
    if (type.equals("rt_tensor*") || type.equals("rt_generator*")) {
      return java.util.Optional.of("H"); // opaque handles travel as pointer-sized longs
    }
    if (type.endsWith("*")) {
      return java.util.Optional.of("P");
    }
    return java.util.Optional.ofNullable(
        switch (type) {
          case "int32_t", "rt_status" -> "I";
          case "int64_t", "uint64_t" -> "L";
          case "double" -> "D";
          default -> null;
        });
  }

  /** The generated files, keyed by their path under the source root. */
  public static Map<String, String> generate(String headerText) {
    Header h = parse(headerText);
    Map<String, String> out = new LinkedHashMap<>();
    out.put("dev/rectok/torch/internal/Shim.java", shim(h));
    out.put("dev/rectok/torch/Ops.java", ops(h));
    return out;
  }

  private static String shim(Header h) {
    StringBuilder sb = new StringBuilder();
    sb.append(
        """
        // GENERATED from native/include/rectok_torch.h by dev.rectok.torch.gen.BindingGenerator; do not edit.
        package dev.rectok.torch.internal;

        import java.lang.foreign.FunctionDescriptor;
        import java.lang.foreign.Linker;
        import java.lang.foreign.ValueLayout;
        import java.lang.invoke.MethodHandle;

        /**
         * FFM bindings of {@code native/include/rectok_torch.h}, generated at build time: one holder
         * class per C function so each is bound lazily, on first use, and its handle is a JIT constant.
         *
         * <p>Handles ({@code rt_tensor*}, {@code rt_generator*}) pass as {@code long}: same register
         * class as a pointer on LP64, no wrapper allocation per call. Callers therefore keep the owning
         * Java objects reachable across the call ({@code Reference.reachabilityFence}).
         *
         * <p>The handles are immutable and thread-safe; what a call may race with is the caller's
         * business (see {@link dev.rectok.torch.Tensor}).
         */
        public final class Shim {
          private Shim() {}

          // Constants of the ABI, named as in the header.
        """);
    for (var c : h.constants().entrySet()) {
      sb.append("  public static final int ")
          .append(c.getKey())
          .append(" = ")
          .append(c.getValue())
          .append(";\n");
    }
    sb.append(
        """

          /** A tensor or generator handle. */
          public static final ValueLayout H = ValueLayout.JAVA_LONG;
          private static final ValueLayout P = ValueLayout.ADDRESS;
          private static final ValueLayout I = ValueLayout.JAVA_INT;
          private static final ValueLayout L = ValueLayout.JAVA_LONG;
          private static final ValueLayout D = ValueLayout.JAVA_DOUBLE;

          // Functions taking a void* may read/write Java arrays directly (one memcpy inside; GC waits
          // that long).
          private static final Linker.Option HEAP = Linker.Option.critical(true);
          // Functions without parameters are trivial getters: a critical call blocks GC for its duration.
          private static final Linker.Option TRIVIAL = Linker.Option.critical(false);

          private static MethodHandle bind(String name, FunctionDescriptor fd, Linker.Option... options) {
            return NativeLibrary.downcall(name, fd, options);
          }

        """);
    for (Function fn : h.functions()) {
      List<String> layouts = new ArrayList<>();
      for (Param p : fn.params()) {
        layouts.add(layout(p.type()).orElseThrow());
      }
      String fd =
          fn.returnType().equals("void")
              ? "FunctionDescriptor.ofVoid(" + String.join(", ", layouts) + ")"
              : "FunctionDescriptor.of("
                  + String.join(", ", prepend(layout(fn.returnType()).orElseThrow(), layouts))
                  + ")";
      String option = "";
      if (fn.params().isEmpty()) {
        option = ", TRIVIAL";
      } else if (fn.params().stream().anyMatch(p -> p.type().equals("void*"))) {
        option = ", HEAP";
      }
      sb.append("  /** {@code ").append(fn.name()).append("}. */\n");
      sb.append("  public static final class ").append(fn.name()).append(" {\n");
      sb.append("    private ").append(fn.name()).append("() {}\n\n");
      sb.append("    /** The downcall handle. */\n");
      sb.append("    public static final MethodHandle MH = bind(\"")
          .append(fn.name())
          .append("\", ")
          .append(fd)
          .append(option)
          .append(");\n  }\n\n");
    }
    sb.setLength(sb.length() - 1);
    sb.append("}\n");
    return sb.toString();
  }

  private static List<String> prepend(String first, List<String> rest) {
    List<String> all = new ArrayList<>();
    all.add(first);
    all.addAll(rest);
    return all;
  }

  /** A Java parameter of an Ops wrapper and how it reaches the C call. */
  private record Arg(
      String javaType, String javaName, List<String> setup, List<String> cArgs, boolean keep) {}

  /**
   * The wrapper's Java arguments for a mechanical function, or null when the function needs a
   * hand-written binding (host buffers, scalar out parameters, several outputs).
   */
  static List<Arg> mechanical(Function fn) {
    List<Param> ps = fn.params();
    if (!fn.returnType().equals("rt_status")
        || ps.isEmpty()
        || !ps.get(0).type().equals("rt_ctx*")) {
      return null;
    }
    int end = ps.size();
    boolean returnsTensor =
        ps.get(end - 1).type().equals("rt_tensor**") && ps.get(end - 1).name().equals("out");
    if (returnsTensor) {
      end--;
    }
    List<Arg> args = new ArrayList<>();
    for (int i = 1; i < end; i++) {
      Param p = ps.get(i);
      String n = javaName(p.name());
      Param next = i + 1 < end ? ps.get(i + 1) : null;
      // Only (array, ndim|n) pairs are inputs; (buffer, cap) pairs are outputs, written by hand.
      boolean counted =
          next != null
              && next.type().equals("int64_t")
              && (next.name().equals("ndim") || next.name().equals("n"));
      switch (p.type()) {
        case "rt_tensor*" ->
            args.add(new Arg("Tensor", n, List.of(), List.of("Call.opt(" + n + ")"), true));
        case "rt_generator*" ->
            args.add(
                new Arg(
                    "TorchGenerator",
                    n,
                    List.of(),
                    List.of("TorchGenerator.handle(" + n + ")"),
                    true));
        case "int32_t" -> args.add(new Arg("int", n, List.of(), List.of(n), false));
        case "int64_t", "uint64_t" -> args.add(new Arg("long", n, List.of(), List.of(n), false));
        case "double" -> args.add(new Arg("double", n, List.of(), List.of(n), false));
        case "int64_t*" -> {
          if (!counted) {
            return null;
          }
          args.add(
              new Arg(
                  "long[]",
                  n,
                  List.of("MemorySegment " + n + "Seg = f.longs(" + n + ");"),
                  List.of(n + "Seg", "(long) " + n + ".length"),
                  false));
          i++;
        }
        case "rt_tensor**" -> {
          if (!counted) {
            return null;
          }
          args.add(
              new Arg(
                  "Tensor[]",
                  n,
                  List.of("MemorySegment " + n + "Seg = Call.handles(f, " + n + ");"),
                  List.of(n + "Seg", "(long) " + n + ".length"),
                  true));
          i++;
        }
        default -> {
          return null;
        }
      }
    }
    return args;
  }

  private static String javaName(String c) {
    StringBuilder sb = new StringBuilder();
    boolean up = false;
    for (char ch : c.toCharArray()) {
      if (ch == '_') {
        up = true;
      } else {
        sb.append(up ? Character.toUpperCase(ch) : ch);
        up = false;
      }
    }
    String s = sb.toString();
    return JAVA_KEYWORDS.contains(s) ? s + "Arg" : s;
  }

  /**
   * {@code rt_log_softmax} → {@code logSoftmax}; the in-place suffix stays: {@code rt_add_} →
   * {@code add_}.
   */
  static String methodName(String cName) {
    String base = cName.substring("rt_".length());
    boolean inplace = base.endsWith("_");
    String camel = javaName(inplace ? base.substring(0, base.length() - 1) : base);
    if (camel.endsWith("Arg")) {
      camel = camel.substring(0, camel.length() - 3);
    }
    return camel + (inplace ? "_" : "");
  }

  private static String ops(Header h) {
    StringBuilder sb = new StringBuilder();
    sb.append(
        """
        // GENERATED from native/include/rectok_torch.h by dev.rectok.torch.gen.BindingGenerator; do not edit.
        package dev.rectok.torch;

        import dev.rectok.torch.internal.CallFrame;
        import dev.rectok.torch.internal.Shim;
        import java.lang.foreign.MemorySegment;
        import java.lang.ref.Reference;

        /**
         * Typed wrappers of the header's mechanical functions, generated at build time: each takes
         * this thread's call frame, passes the handles (NULL for a null tensor: the shim rejects NULL
         * where a tensor is required, naming the parameter), checks the status, keeps the Java owners
         * reachable until the call returned and adopts the new tensor of {@code out}, if any.
         *
         * <p>Stateless and thread-safe; the tensors passed follow {@link Tensor}'s contract.
         */
        final class Ops {
          private Ops() {}
        """);
    for (Function fn : h.functions()) {
      List<Arg> args = mechanical(fn);
      if (args == null) {
        continue;
      }
      Param last = fn.params().get(fn.params().size() - 1);
      boolean returnsTensor = last.type().equals("rt_tensor**") && last.name().equals("out");
      List<String> sig = new ArrayList<>();
      List<String> cArgs = new ArrayList<>(List.of("f.ctx"));
      List<String> setup = new ArrayList<>();
      List<String> keep = new ArrayList<>();
      for (Arg a : args) {
        sig.add(a.javaType() + " " + a.javaName());
        setup.addAll(a.setup());
        cArgs.addAll(a.cArgs());
        if (a.keep()) {
          keep.add(a.javaName());
        }
      }
      if (returnsTensor) {
        cArgs.add("f.out");
      }
      sb.append("\n  /** {@code ").append(fn.name()).append("}. */\n");
      sb.append("  static ")
          .append(returnsTensor ? "Tensor " : "void ")
          .append(methodName(fn.name()))
          .append('(')
          .append(String.join(", ", sig))
          .append(") {\n");
      sb.append("    CallFrame f = CallFrame.get();\n");
      sb.append("    try {\n");
      for (String s : setup) {
        sb.append("      ").append(s).append('\n');
      }
      sb.append("      Call.check((int) Shim.")
          .append(fn.name())
          .append(".MH.invokeExact(")
          .append(String.join(", ", cArgs))
          .append("), f);\n");
      sb.append("    } catch (Throwable thrown) {\n      throw Call.rethrow(thrown);\n    }");
      if (!keep.isEmpty()) {
        sb.append(" finally {\n");
        for (String k : keep) {
          sb.append("      Reference.reachabilityFence(").append(k).append(");\n");
        }
        sb.append("    }");
      }
      sb.append('\n');
      if (returnsTensor) {
        sb.append("    return Call.out(f);\n");
      }
      sb.append("  }\n");
    }
    sb.append("}\n");
    return sb.toString();
  }
}
