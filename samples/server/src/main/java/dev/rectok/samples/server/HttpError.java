package dev.rectok.samples.server;

/** A request that ends with a 4xx or 503 and a one-line reason. Unchecked; immutable. */
final class HttpError extends RuntimeException {
  private static final long serialVersionUID = 1L;
  final int status;

  HttpError(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }
}
