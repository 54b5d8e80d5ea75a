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
    try {
      byte[] l = local.getAddress().getAddress();
      byte[] r = remote.getAddress().getAddress();
      // an IPv4 peer of a dual-stack socket is listed in tcp6 as ::ffff:a.b.c.d
      String st =
          l.length == 4
              ? state(
                  Path.of("/proc/net/tcp"), entry(l, local.getPort()), entry(r, remote.getPort()))
              : null;
      if (st == null) {
        st =
            state(
                Path.of("/proc/net/tcp6"),
                entry(mapped(l), local.getPort()),
                entry(mapped(r), remote.getPort()));
      }
      if (st == null) {
        return State.ABSENT;
      }
      return CLOSE_WAIT.equals(st) || "07".equals(st) ? State.CLOSED : State.OPEN; // 07: CLOSE
    } catch (IOException | RuntimeException e) {
      return State.UNKNOWN;
    }
  }

  private static String state(Path table, String local, String remote) throws IOException {
    if (!Files.isReadable(table)) {
      throw new IOException("no " + table);
    }
    for (String line : Files.readAllLines(table)) {
      String[] f = line.trim().split("\\s+");
      if (f.length > 3 && f[1].equalsIgnoreCase(local) && f[2].equalsIgnoreCase(remote)) {
        return f[3];
      }
    }
    return null;
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
