package dev.rectok.samples.server;

import dev.rectok.api.Backends;
import dev.rectok.api.Device;
import dev.rectok.api.Generator;
import dev.rectok.api.Tokenizer;
import dev.rectok.api.spi.Backend;
import dev.rectok.demomodels.FashionMnistModels;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.URI;

/**
 * The demo models, opened once per test JVM from the class path (the demo-models artifact) and
 * shared by every test, as the server shares them; and a plain HTTP client.
 */
final class Fixture {
  private Fixture() {}

  static final Backend BACKEND = Backends.load(Fixture.class.getClassLoader());
  static final Tokenizer TOKENIZER;
  static final Generator GENERATOR;

  static {
    try {
      TOKENIZER =
          Backends.openTokenizerResource(
              FashionMnistModels.TOKENIZER, FashionMnistModels.loader(), Device.CPU);
      GENERATOR =
          Backends.openGeneratorResource(
              FashionMnistModels.GENERATOR,
              FashionMnistModels.GUIDE,
              FashionMnistModels.loader(),
              Device.CPU);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static RecTokServer start(ServerConfig config) throws IOException {
    RecTokServer s = new RecTokServer(config, TOKENIZER, GENERATOR, BACKEND);
    s.start();
    return s;
  }

  /** A status and body. */
  record Response(int status, byte[] body) {
    String text() {
      return new String(body, java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  /** One request on a fresh connection. */
  static Response call(int port, String method, String pathAndQuery, byte[] body) {
    try {
      HttpURLConnection c =
          (HttpURLConnection)
              URI.create("http://127.0.0.1:" + port + pathAndQuery).toURL().openConnection();
      c.setRequestMethod(method);
      c.setConnectTimeout(10_000);
      c.setReadTimeout(120_000);
      if (body != null) {
        c.setDoOutput(true);
        c.setFixedLengthStreamingMode(body.length);
        try (OutputStream out = c.getOutputStream()) {
          out.write(body);
        } catch (IOException e) {
          // the server may refuse an oversize body before reading it; its answer still comes
        }
      }
      int status = c.getResponseCode();
      InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      if (in != null) {
        try (in) {
          in.transferTo(out);
        }
      }
      c.disconnect();
      return new Response(status, out.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(method + " " + pathAndQuery, e);
    }
  }
}
