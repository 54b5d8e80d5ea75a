package dev.rectok.cli;

import dev.rectok.api.Progress;
import java.io.PrintStream;
import java.time.Duration;

/** A one-line progress bar on stderr with rate and ETA. Used from the working thread only. */
final class ConsoleProgress implements Progress {
  private final PrintStream out;
  // Logs and pipes get a line per 10% instead of carriage-return redraws.
  private final boolean interactive = System.console() != null && System.console().isTerminal();
  private long nextLine;
  private String task = "";
  private long total;
  private long startNanos;
  private long lastDraw;

  ConsoleProgress(PrintStream out) {
    this.out = out;
  }

  @Override
  public void start(String task, long total) {
    this.task = task;
    this.total = total;
    this.startNanos = System.nanoTime();
    this.lastDraw = 0;
    this.nextLine = 0;
  }

  @Override
  public void update(long done, String status) {
    long now = System.nanoTime();
    if (!interactive) {
      if (done < nextLine && done < total) {
        return;
      }
      nextLine = done + Math.max(1, total / 10);
    } else if (now - lastDraw < 100_000_000L && done < total) {
      return; // redraw at most ten times a second
    }
    lastDraw = now;
    double secs = (now - startNanos) / 1e9;
    double rate = secs > 0 ? done / secs : 0;
    StringBuilder sb = new StringBuilder(interactive ? "\r" : "").append(task).append(' ');
    if (total > 0) {
      int width = 30;
      int filled = (int) Math.min(width, width * done / total);
      sb.append('[')
          .append("=".repeat(filled))
          .append(" ".repeat(width - filled))
          .append("] ")
          .append(done)
          .append('/')
          .append(total);
      if (rate > 0 && done < total) {
        sb.append(" eta ").append(format(Duration.ofMillis((long) ((total - done) / rate * 1000))));
      }
    } else {
      sb.append(done);
    }
    sb.append(String.format(" %.1f/s ", rate)).append(status).append(interactive ? "   " : "\n");
    out.print(sb);
    out.flush();
  }

  @Override
  public void end() {
    if (interactive) {
      out.println();
    }
  }

  private static String format(Duration d) {
    return String.format("%d:%02d", d.toMinutes(), d.toSecondsPart());
  }
}
