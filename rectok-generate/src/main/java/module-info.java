/** Generation: transport, samplers and guidance. Depends on the native backend. */
@SuppressWarnings("module") // the qualified exports name modules built after this one
module dev.rectok.generate {
  requires transitive dev.rectok.torch;
  requires com.fasterxml.jackson.databind;

  exports dev.rectok.generate.transport;
  exports dev.rectok.generate;

  // issue 9: the golden replay harness is parity infrastructure, not general API.
  exports dev.rectok.generate.golden to
      dev.rectok.train,
      dev.rectok.cli,
      com.fasterxml.jackson.databind;

  provides dev.rectok.api.spi.GeneratorProvider with
      dev.rectok.generate.DiTGeneratorProvider;
}
