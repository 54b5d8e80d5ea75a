/**
 * A sample HTTP service embedding the RecTok SDK on the JDK's {@code com.sun.net.httpserver} with
 * virtual threads: encode, decode, reconstruct and generate endpoints, bounded admission with a
 * queue and 503, request-size and pixel limits, timeouts, cancellation when the client goes away,
 * health and metrics.
 */
module dev.rectok.samples.server {
  requires dev.rectok.api;
  requires dev.rectok.torch; // ImageLimits
  requires dev.rectok.demomodels;
  requires jdk.httpserver;

  exports dev.rectok.samples.server;
}
