/** Generation: transport, samplers and guidance. Depends on the native backend. */
module dev.rectok.generate {
  requires transitive dev.rectok.torch;
  requires org.slf4j;

  exports dev.rectok.generate.transport;
}
