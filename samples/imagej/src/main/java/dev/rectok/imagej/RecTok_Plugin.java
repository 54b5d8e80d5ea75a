package dev.rectok.imagej;

import dev.rectok.api.GenerateOptions;
import dev.rectok.api.ImageFit;
import ij.IJ;
import ij.ImagePlus;
import ij.Macro;
import ij.WindowManager;
import ij.gui.GenericDialog;
import ij.plugin.PlugIn;
import java.util.Locale;

/**
 * The ImageJ 1.x commands Plugins › RecTok › Reconstruct, Generate… and Interpolate (registered by
 * {@code plugins.config}; the argument selects the command). Parameters come from a dialog, or from
 * macro options when recorded or run headless ({@code fit=tile}, {@code label=3 seed=0 steps=32
 * guidance=autoguidance scale=1.5}, {@code first=A second=B frames=8}).
 *
 * <p>ImageJ runs each command on its own thread; the models are shared (see {@link RecTokModels}).
 * Results are new images; inputs are never modified.
 */
public class RecTok_Plugin implements PlugIn {
  /** ImageJ instantiates the plugin once per command. */
  public RecTok_Plugin() {}

  /** Runs the command named by {@code arg}: reconstruct, generate or interpolate. */
  @Override
  public void run(String arg) {
    try {
      switch (arg) {
        case "reconstruct" -> reconstruct();
        case "generate" -> generate();
        case "interpolate" -> interpolate();
        default -> IJ.error("RecTok", "unknown command '" + arg + "'");
      }
    } catch (Exception | LinkageError e) {
      IJ.log("RecTok: " + e);
      IJ.error("RecTok", e.getMessage() == null ? e.toString() : e.getMessage());
    }
  }

  /**
   * Macro options when present (recorded macros, headless runs); null means "ask with a dialog".
   */
  private static String options() {
    return Macro.getOptions();
  }

  private static String value(String options, String key, String def) {
    return Macro.getValue(options, key, def);
  }

  private void reconstruct() throws Exception {
    ImagePlus imp = WindowManager.getCurrentImage();
    if (imp == null) {
      IJ.noImage();
      return;
    }
    String fit;
    String opts = options();
    if (opts != null) {
      fit = value(opts, "fit", "tile");
    } else {
      GenericDialog gd = new GenericDialog("RecTok Reconstruct");
      gd.addChoice("Fit", new String[] {"tile", "resize"}, "tile");
      gd.addMessage(
          "tile: model-sized tiles (sharp); resize: the whole image at the model's size.\n"
              + "The result keeps the image's size and type.");
      gd.showDialog();
      if (gd.wasCanceled()) {
        return;
      }
      fit = gd.getNextChoice();
    }
    ImageFit f = ImageFit.valueOf(fit.toUpperCase(Locale.ROOT));
    RecTokImages.reconstruct(RecTokModels.get().tokenizer, imp, f).show();
  }

  private void generate() throws Exception {
    RecTokModels m = RecTokModels.get();
    int label;
    long seed;
    int steps;
    String guidance;
    double scale;
    String opts = options();
    if (opts != null) {
      label = Integer.parseInt(value(opts, "label", "0"));
      seed = Long.parseLong(value(opts, "seed", "0"));
      steps = Integer.parseInt(value(opts, "steps", "32"));
      guidance = value(opts, "guidance", "autoguidance");
      scale = Double.parseDouble(value(opts, "scale", "1.5"));
    } else {
      GenericDialog gd = new GenericDialog("RecTok Generate");
      gd.addNumericField("Class (0.." + (m.generator.numClasses() - 1) + ")", 0, 0);
      gd.addNumericField("Seed", 0, 0);
      gd.addNumericField("Steps", 32, 0);
      gd.addChoice("Guidance", new String[] {"none", "cfg", "autoguidance"}, "autoguidance");
      gd.addNumericField("Guidance scale", 1.5, 2);
      gd.showDialog();
      if (gd.wasCanceled()) {
        return;
      }
      label = (int) gd.getNextNumber();
      seed = (long) gd.getNextNumber();
      steps = (int) gd.getNextNumber();
      guidance = gd.getNextChoice();
      scale = gd.getNextNumber();
    }
    if (steps < 1 || steps > 1000) {
      throw new IllegalArgumentException("steps must be in 1..1000, got " + steps);
    }
    GenerateOptions.GuidanceKind kind =
        GenerateOptions.GuidanceKind.valueOf(guidance.toUpperCase(Locale.ROOT));
    RecTokImages.generate(m.tokenizer, m.generator, label, seed, steps, kind, scale).show();
  }

  private void interpolate() throws Exception {
    int[] ids = WindowManager.getIDList();
    if (ids == null || ids.length < 2) {
      IJ.error("RecTok Interpolate", "open two images first");
      return;
    }
    String[] titles = new String[ids.length];
    for (int i = 0; i < ids.length; i++) {
      titles[i] = WindowManager.getImage(ids[i]).getTitle();
    }
    String first;
    String second;
    int frames;
    String opts = options();
    if (opts != null) {
      first = value(opts, "first", titles[0]);
      second = value(opts, "second", titles[1]);
      frames = Integer.parseInt(value(opts, "frames", "8"));
    } else {
      GenericDialog gd = new GenericDialog("RecTok Interpolate");
      gd.addChoice("First", titles, titles[0]);
      gd.addChoice("Second", titles, titles[1]);
      gd.addNumericField("Frames", 8, 0);
      gd.showDialog();
      if (gd.wasCanceled()) {
        return;
      }
      first = gd.getNextChoice();
      second = gd.getNextChoice();
      frames = (int) gd.getNextNumber();
    }
    ImagePlus a = WindowManager.getImage(first);
    ImagePlus b = WindowManager.getImage(second);
    if (a == null || b == null) {
      throw new IllegalArgumentException("no open image titled " + (a == null ? first : second));
    }
    RecTokImages.interpolate(RecTokModels.get().tokenizer, a, b, frames).show();
  }
}
