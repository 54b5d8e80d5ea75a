package dev.rectok.torch.io;

/**
 * Terminal-safe text from files: tensor names, dictionary keys and metadata are attacker-chosen,
 * and printed raw they can move the cursor, recolour or clear the terminal, or reorder what is
 * shown (bidirectional overrides). {@link #of} escapes every such character as {@code \xNN} or
 * {@code \}{@code uNNNN} and leaves all other text as it is.
 *
 * <p>Stateless and thread-safe.
 */
public final class SafeText {
  private SafeText() {}

  /**
   * The text with control characters (C0 and C1, DEL, line and paragraph separators) and
   * bidirectional formatting characters escaped; {@code null} becomes {@code "null"}.
   */
  public static String of(String s) {
    return escape(s, false);
  }

  /** Like {@link #of} but keeps newlines and tabs, for multi-line messages. */
  public static String message(String s) {
    return escape(s, true);
  }

  private static String escape(String s, boolean keepLines) {
    if (s == null) {
      return "null";
    }
    StringBuilder sb = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean keep = !unsafe(c) || (keepLines && (c == '\n' || c == '\t'));
      if (keep) {
        if (sb != null) {
          sb.append(c);
        }
        continue;
      }
      if (sb == null) {
        sb = new StringBuilder(s.length() + 16).append(s, 0, i);
      }
      sb.append(c < 0x100 ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c));
    }
    return sb == null ? s : sb.toString();
  }

  private static boolean unsafe(char c) {
    return c < 0x20
        || (c >= 0x7f && c <= 0x9f)
        || c == 0x2028
        || c == 0x2029
        || (c >= 0x202a && c <= 0x202e)
        || (c >= 0x2066 && c <= 0x2069)
        || c == 0x200e
        || c == 0x200f
        || c == 0x061c;
  }
}
