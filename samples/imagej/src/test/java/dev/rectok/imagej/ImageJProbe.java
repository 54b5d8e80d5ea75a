package dev.rectok.imagej;

import ij.IJ;
import ij.ImagePlus;
import ij.WindowManager;
import ij.macro.Interpreter;

/**
 * Runs in a child JVM whose class path holds only ImageJ and this class, as ImageJ's launcher
 * would: the SDK is in {@code plugins/jars}, the plugin in {@code plugins/}, both reachable only
 * through ImageJ's plugin class loader. Runs the menu commands by name and prints what came back.
 *
 * <p>ImageJ 1.x builds its menus from AWT, which a headless JVM refuses, so the probe dispatches a
 * command as the menu would: it looks the name up in the plugin jar's {@code plugins.config} (read
 * through ImageJ's class loader) and calls {@link IJ#runPlugIn(ImagePlus, String, String)} with the
 * macro options on a thread named as ImageJ names its command threads.
 */
public final class ImageJProbe {
  private ImageJProbe() {}

  /** Prints one {@code key=value} line per fact; the test asserts on them. */
  public static void main(String[] args) throws Exception {
    Thread t =
        new Thread(
            () -> {
              try {
                probe();
              } catch (Exception e) {
                e.printStackTrace();
                System.exit(2);
              }
            },
            "Run$_probe");
    t.start();
    t.join();
    System.out.flush();
    System.exit(0);
  }

  /** Runs a menu command by its name in the plugin jar's plugins.config, with macro options. */
  static void run(ImagePlus imp, String command, String options) throws java.io.IOException {
    java.net.URL config = IJ.getClassLoader().getResource("plugins.config");
    String line;
    try (var in = config.openStream()) {
      line =
          new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
              .lines()
              .filter(l -> l.contains("\"" + command + "\""))
              .findFirst()
              .orElseThrow(
                  () -> new IllegalStateException("no command " + command + " in " + config));
    }
    // Plugins>RecTok, "Reconstruct", dev.rectok.imagej.RecTok_Plugin("reconstruct")
    String target = line.substring(line.lastIndexOf(',') + 1).trim();
    String className = target.substring(0, target.indexOf('('));
    String arg = target.substring(target.indexOf("(\"") + 2, target.lastIndexOf("\")"));
    ij.Macro.setOptions(Thread.currentThread(), options + " ");
    try {
      IJ.runPlugIn(imp, className, arg);
    } finally {
      ij.Macro.setOptions(Thread.currentThread(), null);
    }
  }

  private static void probe() throws Exception {
    Interpreter.batchMode = true; // headless: images are kept, not shown in windows
    try {
      Class.forName(
          "dev.rectok.api.Backends", false, Thread.currentThread().getContextClassLoader());
      System.out.println("contextLoaderSeesSdk=true");
    } catch (ClassNotFoundException e) {
      System.out.println("contextLoaderSeesSdk=false");
    }
    ImagePlus gray = IJ.createImage("ramp", "8-bit ramp", 45, 37, 1);
    System.out.println("pluginLoader=" + IJ.getClassLoader().getClass().getName());
    run(gray, "Reconstruct", "fit=tile");
    describe("reconstruct", WindowManager.getCurrentImage());
    run(null, "Generate...", "label=3 seed=1 steps=4 guidance=autoguidance scale=1.5");
    describe("generate", WindowManager.getCurrentImage());
    Class<?> backends = Class.forName("dev.rectok.api.Backends", false, IJ.getClassLoader());
    System.out.println("sdkLoader=" + backends.getClassLoader().getClass().getName());
  }

  private static void describe(String what, ImagePlus imp) {
    System.out.println(
        what
            + "="
            + (imp == null
                ? "none"
                : imp.getTitle()
                    + "|"
                    + imp.getWidth()
                    + "x"
                    + imp.getHeight()
                    + "|type"
                    + imp.getType()));
  }
}
