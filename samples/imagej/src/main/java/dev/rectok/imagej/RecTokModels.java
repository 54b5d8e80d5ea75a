package dev.rectok.imagej;

import dev.rectok.api.Backends;
import dev.rectok.api.Device;
import dev.rectok.api.Generator;
import dev.rectok.api.Tokenizer;
import dev.rectok.demomodels.FashionMnistModels;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The models the plugin uses, opened once on first use and shared by every command (they are
 * thread-safe). Which models: the files named by the system properties {@code rectok.tokenizer},
 * {@code rectok.generator} and {@code rectok.guide} (for example in ImageJ's launcher), else the
 * Fashion-MNIST demo models from the rectok-demo-models jar in {@code plugins/jars}.
 *
 * <p>Everything is looked up through this class's own class loader (ImageJ's plugin class loader),
 * never the thread's context class loader, which cannot see {@code plugins/jars}. Thread-safe; the
 * models live until ImageJ exits.
 */
public final class RecTokModels {
  private static volatile RecTokModels instance;

  /** The tokenizer (owned by this holder). */
  public final Tokenizer tokenizer;

  /** The generator with its AutoGuidance companion (owned by this holder). */
  public final Generator generator;

  private RecTokModels(Tokenizer tokenizer, Generator generator) {
    this.tokenizer = tokenizer;
    this.generator = generator;
  }

  /**
   * The shared models, opened on the first call.
   *
   * @return the models
   * @throws IOException when a model file or resource cannot be read
   */
  public static RecTokModels get() throws IOException {
    RecTokModels m = instance;
    if (m == null) {
      synchronized (RecTokModels.class) {
        m = instance;
        if (m == null) {
          m = open();
          instance = m;
        }
      }
    }
    return m;
  }

  private static RecTokModels open() throws IOException {
    ClassLoader loader = RecTokModels.class.getClassLoader();
    String tok = System.getProperty("rectok.tokenizer");
    String gen = System.getProperty("rectok.generator");
    String guide = System.getProperty("rectok.guide");
    Tokenizer t =
        tok != null
            ? Backends.load(loader).openTokenizer(Path.of(tok), Device.CPU)
            : Backends.openTokenizerResource(
                FashionMnistModels.TOKENIZER, FashionMnistModels.loader(), Device.CPU);
    try {
      Generator g =
          gen != null
              ? Backends.generators(loader)
                  .openGenerator(Path.of(gen), guide == null ? null : Path.of(guide), Device.CPU)
              : Backends.openGeneratorResource(
                  FashionMnistModels.GENERATOR,
                  FashionMnistModels.GUIDE,
                  FashionMnistModels.loader(),
                  Device.CPU);
      return new RecTokModels(t, g);
    } catch (IOException | RuntimeException e) {
      t.close();
      throw e;
    }
  }
}
