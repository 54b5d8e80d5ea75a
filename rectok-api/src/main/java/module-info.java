/**
 * The RecTok API: interfaces and value types, free of native code.
 *
 * <p>An implementation (the LibTorch backend in module {@code dev.rectok.torch}) registers itself
 * as a {@link dev.rectok.api.spi.Backend} service; {@link dev.rectok.api.Backends#load()} finds it
 * through {@link java.util.ServiceLoader}, so applications compile against this module alone.
 */
module dev.rectok.api {
  requires transitive java.desktop; // BufferedImage in the Tokenizer API

  exports dev.rectok.api;
  exports dev.rectok.api.spi;

  uses dev.rectok.api.spi.Backend;
  uses dev.rectok.api.spi.GeneratorProvider;
  uses dev.rectok.api.spi.TrainerProvider;

  // --- issue 11: evaluation through the API ---
  exports dev.rectok.api.eval;

  uses dev.rectok.api.spi.EvaluatorProvider;
}
