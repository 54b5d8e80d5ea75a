package dev.rectok.samples.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Tells whether an HTTP client is still connected while its request is being computed. The JDK's
 * server exposes no socket, and a client's FIN is otherwise noticed only when the response is
 * written; the kernel knows at once: Linux lists the connection in {@code /proc/net/tcp[6]}, in
 * state CLOSE_WAIT once the peer closed. Polled once per sampling step. A connection counts as gone
 * only when it is listed closed, or no longer listed after it was seen open; where {@code /proc} is
 * absent or never lists it, requests end by their timeout. Stateless; thread-safe.
 */
final class ClientWatch {
  private static final String CLOSE_WAIT = "08";

  private ClientWatch() {}

  /** What the kernel says about one connection. */
  enum State {
    /** Listed and open. */
    OPEN,
    /** Listed as closed by the peer (CLOSE_WAIT or CLOSE). */
    CLOSED,
    /** Not listed: closed and gone, or never seen (another network namespace). */
    ABSENT,
    /** No {@code /proc}: nothing can be told. */
    UNKNOWN
  }

  /** The kernel's state of the connection local ↔ remote. */
  static State state(InetSocketAddress local, InetSocketAddress remote) {
    return states(new InetSocketAddress[][] {{local, remote}})[0];
  }

  // --- issue 13: one read of the tables for a whole batch ---
  /**
   * The kernel's states of several connections ({@code pairs[i]} = local, remote), each table read
   * at most once: a batch of requests is polled once per sampling step, so the cost of a poll (the
   * kernel formats every listed socket) is paid once per batch, not once per request.
   */
  static State[] states(InetSocketAddress[][] pairs) {
    State[] out = new State[pairs.length];
    String tcp = null;
    String tcp6 = null;
    for (int i = 0; i < pairs.length; i++) {
      try {
        byte[] l = pairs[i][0].getAddress().getAddress();
        byte[] r = pairs[i][1].getAddress().getAddress();
        int lp = pairs[i][0].getPort();
        int rp = pairs[i][1].getPort();
        String st = null;
        if (l.length == 4) {
          tcp = tcp != null ? tcp : read(Path.of("/proc/net/tcp"));
          st = find(tcp, entry(l, lp), entry(r, rp));
        }
        if (st == null) {
          // an IPv4 peer of a dual-stack socket is listed in tcp6 as ::ffff:a.b.c.d
          tcp6 = tcp6 != null ? tcp6 : read(Path.of("/proc/net/tcp6"));
          st = find(tcp6, entry(mapped(l), lp), entry(mapped(r), rp));
        }
        out[i] =
            st == null
                ? State.ABSENT
                : CLOSE_WAIT.equals(st) || "07".equals(st) ? State.CLOSED : State.OPEN; // 07: CLOSE
      } catch (IOException | RuntimeException e) {
        out[i] = State.UNKNOWN;
      }
    }
    return out;
  }

  private static String read(Path table) throws IOException {
    if (!Files.isReadable(table)) {
      throw new IOException("no " + table);
    }
    return Files.readString(table);
  }

  /**
   * The state column of the line listing local → remote: the kernel prints {@code "%4d: LOCAL:PORT
   * REMOTE:PORT ST ..."} in upper-case hex, one space apart.
   */
  private static String find(String table, String local, String remote) {
    int at = table.indexOf(" " + local + " " + remote + " ");
    if (at < 0) {
      return null;
    }
    int st = at + local.length() + remote.length() + 3;
    return table.substring(st, st + 2);
  }

  private static byte[] mapped(byte[] b) {
    if (b.length == 16) {
      return b;
    }
    byte[] m = new byte[16];
    m[10] = (byte) 0xff;
    m[11] = (byte) 0xff;
    System.arraycopy(b, 0, m, 12, 4);
    return m;
  }

  /**
   * The kernel's hex form: the address's 32-bit words in host (little-endian) order, then the port.
   */
  static String entry(byte[] b, int port) {
    StringBuilder hex = new StringBuilder();
    for (int w = 0; w < b.length; w += 4) {
      hex.append(HexFormat.of().formatHex(new byte[] {b[w + 3], b[w + 2], b[w + 1], b[w]}));
    }
    return (hex + ":" + String.format("%04X", port)).toUpperCase(Locale.ROOT);
  }
}
