/** Generation: transport, samplers and guidance. Depends on the native backend. */
module dev.rectok.generate {
  requires transitive dev.rectok.torch;
  requires org.slf4j;
  requires com.fasterxml.jackson.databind;

  exports dev.rectok.generate.transport;
  exports dev.rectok.generate.golden;
  exports dev.rectok.generate;

  provides dev.rectok.api.spi.GeneratorProvider with dev.rectok.generate.DiTGeneratorProvider;
}
