package dev.rectok.torch;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses rectok_torch.h (its one-declaration-per-line grammar) and diffs it against the Java
 * bindings: every function with the same FFM descriptor, every constant with the same value.
 */
final class HeaderCheck {
  private static final Pattern DECL =
      Pattern.compile("^RT_API\\s+(.+?)\\s+(rt_\\w+)\\s*\\((.*)\\)\\s+RT_NOEXCEPT;\\s*$");
  private static final Pattern DEFINE =
      Pattern.compile("^#define\\s+(RT_[A-Z0-9_]+)\\s+(-?\\d+)\\s*$");

  record Header(
      Map<String, FunctionDescriptor> functions,
      Map<String, Long> constants,
      List<String> problems) {}

  static Header parse(String text) {
    Map<String, FunctionDescriptor> functions = new LinkedHashMap<>();
    Map<String, Long> constants = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (String raw : text.split("\n")) {
      String line = raw.strip();
      if (line.startsWith("RT_API")) {
        Matcher m = DECL.matcher(line);
        if (!m.matches()) {
          problems.add("declaration not on one line or not in the header grammar: " + line);
          continue;
        }
        try {
          functions.put(m.group(2), descriptor(m.group(1), m.group(3)));
        } catch (IllegalArgumentException e) {
          problems.add(m.group(2) + ": " + e.getMessage());
        }
      } else if (line.startsWith("#define RT_")) {
        Matcher m = DEFINE.matcher(line);
        if (m.matches()) {
          constants.put(m.group(1), Long.parseLong(m.group(2)));
        }
      }
    }
    return new Header(functions, constants, problems);
  }

  private static FunctionDescriptor descriptor(String ret, String params) {
    List<MemoryLayout> args = new ArrayList<>();
    String p = params.strip();
    if (!p.equals("void") && !p.isEmpty()) {
      for (String param : p.split(",")) {
        String decl = param.strip();
        int cut = Math.max(decl.lastIndexOf(' '), decl.lastIndexOf('*'));
        args.add(layout(decl.substring(0, cut + 1)));
      }
    }
    Optional<MemoryLayout> r =
        ret.strip().equals("void") ? Optional.empty() : Optional.of(layout(ret));
    MemoryLayout[] a = args.toArray(new MemoryLayout[0]);
    return r.map(l -> FunctionDescriptor.of(l, a)).orElseGet(() -> FunctionDescriptor.ofVoid(a));
  }

  /** The FFM layout the bindings must use for a C type. */
  static MemoryLayout layout(String cType) {
    String t = cType.replace("const ", "").replaceAll("\\s+", "");
    if (t.equals("rt_tensor*") || t.equals("rt_generator*")) {
      return ValueLayout.JAVA_LONG; // opaque handles travel as pointer-sized longs
    }
    if (t.endsWith("*")) {
      return ValueLayout.ADDRESS;
    }
    return switch (t) {
      case "int32_t", "rt_status" -> ValueLayout.JAVA_INT;
      case "int64_t", "uint64_t" -> ValueLayout.JAVA_LONG;
      case "double" -> ValueLayout.JAVA_DOUBLE;
      case "float" -> ValueLayout.JAVA_FLOAT;
      default ->
          throw new IllegalArgumentException(
              "type outside the ABI's allowed set: '" + cType.strip() + "'");
    };
  }

  /** Every mismatch between the header and the bindings, one line each; empty when in sync. */
  static List<String> diff(
      Header header, Map<String, FunctionDescriptor> bound, Map<String, Long> javaConstants) {
    List<String> out = new ArrayList<>(header.problems());
    TreeSet<String> names = new TreeSet<>(header.functions().keySet());
    names.addAll(bound.keySet());
    for (String name : names) {
      FunctionDescriptor h = header.functions().get(name);
      FunctionDescriptor j = bound.get(name);
      if (h == null) {
        out.add(name + ": bound in Java but not declared in the header");
      } else if (j == null) {
        out.add(name + ": declared in the header but missing from the bindings");
      } else if (!strip(h).equals(strip(j))) {
        out.add(name + ": header " + strip(h) + " but bound as " + strip(j));
      }
    }
    for (var e : header.constants().entrySet()) {
      Long v = javaConstants.get(e.getKey());
      if (v == null) {
        out.add(e.getKey() + ": constant missing from the bindings");
      } else if (!v.equals(e.getValue())) {
        out.add(e.getKey() + ": header says " + e.getValue() + ", Java says " + v);
      }
    }
    return out;
  }

  /** Layout names are irrelevant to the ABI. */
  private static String strip(FunctionDescriptor fd) {
    StringBuilder sb = new StringBuilder("(");
    for (MemoryLayout l : fd.argumentLayouts()) {
      sb.append(carrier(l)).append(' ');
    }
    sb.append(")").append(fd.returnLayout().map(HeaderCheck::carrier).orElse("void"));
    return sb.toString();
  }

  private static String carrier(MemoryLayout l) {
    return l instanceof ValueLayout v ? v.carrier().getSimpleName() + v.byteSize() : l.toString();
  }
}
