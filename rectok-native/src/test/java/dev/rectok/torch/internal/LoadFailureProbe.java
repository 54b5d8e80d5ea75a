package dev.rectok.torch.internal;

/**
 * Run in a child JVM by {@link NativeLibraryLoadingTest}: touches the library twice, prints what
 * each call threw.
 */
public final class LoadFailureProbe {
  private LoadFailureProbe() {}

  /** Prints {@code call N: <exception> cause=<cause class>: <message>} for two calls. */
  public static void main(String[] args) {
    for (int i = 1; i <= 2; i++) {
      try {
        NativeLibrary.path();
        System.out.println("call " + i + ": loaded");
      } catch (Throwable t) {
        System.out.println(
            "call "
                + i
                + ": "
                + t.getClass().getName()
                + ": "
                + t.getMessage().replace('\n', ' ')
                + " cause="
                + (t.getCause() == null ? "none" : t.getCause().getClass().getName()));
      }
    }
  }
}
