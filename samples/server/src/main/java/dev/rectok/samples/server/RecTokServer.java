package dev.rectok.samples.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.rectok.api.Backends;
import dev.rectok.api.Device;
import dev.rectok.api.GenerateOptions;
import dev.rectok.api.Generator;
import dev.rectok.api.ImageFit;
import dev.rectok.api.Latents;
import dev.rectok.api.Progress;
import dev.rectok.api.Tokenizer;
import dev.rectok.api.spi.Backend;
import dev.rectok.demomodels.FashionMnistModels;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * An HTTP service over one {@link Tokenizer} and one {@link Generator}, loaded once and shared by
 * every request (both are thread-safe).
 *
 * <p>Server: the JDK's {@code com.sun.net.httpserver.HttpServer} with a virtual thread per
 * exchange. Chosen over a server library because it ships with the JDK (no dependency to keep
 * patched, nothing else on the module path), and the work per request is a model call of tens of
 * milliseconds or more, so its simple blocking model costs nothing measurable; HTTP/2, TLS
 * termination and compression belong in a proxy in front. What it lacks (a signal when the client
 * disconnects) {@link ClientWatch} supplies.
 *
 * <p>Endpoints (all answers are deterministic: the same request gives the same bytes):
 *
 * <ul>
 *   <li>{@code POST /v1/reconstruct?fit=tile|resize} — an image (PNG, JPEG, BMP, GIF) in, a PNG of
 *       the same size and type out;
 *   <li>{@code POST /v1/encode} — an image in, its normalized posterior-mean latent out as
 *       little-endian float32, shape in the {@code X-RecTok-Latent-Shape} header;
 *   <li>{@code POST /v1/decode} — such floats in, the PNG at the model's size out;
 *   <li>{@code POST /v1/generate?label=L&seed=S&steps=N&guidance=none|cfg|autoguidance&scale=W} —
 *       one image (one label per call: see the batch-composition note in {@link Generator});
 *   <li>{@code GET /health}, {@code GET /metrics} (Prometheus text format).
 * </ul>
 *
 * Errors are {@code 4xx} with a one-line reason, {@code 503} for overload and timeouts; an internal
 * error is a {@code 500} and is logged.
 *
 * <p>Micro-batching (issue 13; off by default: {@link ServerConfig#maxBatch()} 1). With {@code
 * maxBatch} above 1, concurrent {@code /v1/generate} requests with the same steps, guidance and
 * scale are gathered, up to {@code maxBatch} of them or for {@link ServerConfig#batchWindow()}
 * (longer while every model slot is busy), and run as one sampler call with one seed per request
 * ({@link Generator#sample(long[], long[], GenerateOptions, Progress)}) and one batched decode;
 * each request gets its own PNG. The contract in batching mode:
 *
 * <ul>
 *   <li>the image for (label, seed, settings) is the one-sample call {@code sample({label}, {seed},
 *       ...)}, whose noise is sample 0 of {@code seed} as {@code rectok sample --seed} draws it; it
 *       is not the image {@code maxBatch} 1 serves for that seed (that mode keeps the older
 *       one-seed-per-call noise, byte for byte). What else arrived changes it only through the
 *       rounding of batched GEMMs: decoded pixels stay within 2/255 of the batch-of-one answer
 *       (measured at most 1/255 on the demo models; {@code ServerBatchingTest}), and the same set
 *       of requests in one batch gets the same bytes, whatever order they arrived in;
 *   <li>each request keeps its own deadline ({@link ServerConfig#requestTimeout()}, from its
 *       arrival) and client: when one goes away or times out its row is dropped and the others'
 *       call goes on; the call stops only when every row is gone;
 *   <li>the admission limits count model calls: {@code maxConcurrent} batches run, up to {@code
 *       maxQueue} wait; an overload or a failed call answers every request of the batch, with the
 *       reason;
 *   <li>{@code /metrics} reports the batch sizes ({@code rectok_generate_batch_size} histogram).
 * </ul>
 *
 * <p>Threading: {@link #start()} and {@link #close()} once each, from one thread; handlers run
 * concurrently on virtual threads, admitted by {@link Admission}. Owns the server; the models are
 * borrowed (close them after {@link #close()}).
 */
public final class RecTokServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(RecTokServer.class.getName());

  private final ServerConfig config;
  private final Tokenizer tokenizer;
  private final Generator generator;
  private final Backend backend;
  private final Admission admission;
  private final Metrics metrics = new Metrics();
  private HttpServer server;
  private ExecutorService executor;
  private GenerateBatcher batcher; // issue 13: null without batching

  /**
   * A server for these (borrowed) models; nothing is bound until {@link #start()}.
   *
   * @param config the limits and address
   * @param tokenizer the tokenizer, shared by every request
   * @param generator the generator, shared by every request
   * @param backend the backend, for diagnostics
   * @throws IllegalArgumentException when the tokenizer cannot decode the generator's latents
   */
  public RecTokServer(
      ServerConfig config, Tokenizer tokenizer, Generator generator, Backend backend) {
    this.config = config;
    this.tokenizer = tokenizer;
    this.generator = generator;
    this.backend = backend;
    this.admission =
        new Admission(config.maxConcurrent(), config.maxQueue(), config.queueTimeout());
    generator.compatibility(tokenizer).require();
  }

  /**
   * Binds and starts serving.
   *
   * @return the bound port
   * @throws IOException when the address cannot be bound
   */
  public int start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(config.host(), config.port()), 64);
    executor = Executors.newVirtualThreadPerTaskExecutor();
    server.setExecutor(executor);
    if (config.maxBatch() > 1) {
      batcher =
          new GenerateBatcher(
              generator,
              tokenizer,
              admission,
              metrics,
              executor,
              config.maxBatch(),
              config.batchWindow());
    }
    server.createContext(
        "/v1/reconstruct", ex -> handle(ex, "reconstruct", true, this::reconstruct));
    server.createContext("/v1/encode", ex -> handle(ex, "encode", true, this::encode));
    server.createContext("/v1/decode", ex -> handle(ex, "decode", true, this::decode));
    // issue 13: a batched generate request takes no slot of its own; its batch takes one
    server.createContext(
        "/v1/generate", ex -> handle(ex, "generate", true, batcher == null, this::generate));
    server.createContext("/health", ex -> handle(ex, "health", false, this::health));
    server.createContext("/metrics", ex -> handle(ex, "metrics", false, this::metricsText));
    server.start();
    LOG.log(System.Logger.Level.INFO, "serving on {0}:{1}", config.host(), String.valueOf(port()));
    return port();
  }

  /** {@return the bound port} */
  public int port() {
    return server.getAddress().getPort();
  }

  /** {@return the request counters (a live view)} */
  public Metrics metrics() {
    return metrics;
  }

  /** Stops accepting, waits up to a second for running exchanges, and ends the handler threads. */
  @Override
  public void close() {
    if (server != null) {
      server.stop(1);
      executor.shutdownNow();
    }
  }

  /** A handler's result: status, content type, body. */
  record Reply(int status, String type, byte[] body, Map<String, String> headers) {
    static Reply of(String type, byte[] body) {
      return new Reply(200, type, body, Map.of());
    }
  }

  /** One endpoint's work on an admitted, size-checked request. */
  @FunctionalInterface
  interface Work {
    Reply run(Request r) throws IOException, InterruptedException;
  }

  /** What a handler reads: the query, the body, and whether the client is still there. */
  static final class Request {
    private final Map<String, String> query;
    private final byte[] body;
    private final HttpExchange exchange;
    private final long deadlineNanos;
    private boolean seenOpen; // polled from the one thread that handles the exchange

    Request(Map<String, String> query, byte[] body, HttpExchange exchange, long deadlineNanos) {
      this.query = query;
      this.body = body;
      this.exchange = exchange;
      this.deadlineNanos = deadlineNanos;
    }

    Map<String, String> query() {
      return query;
    }

    byte[] body() {
      return body;
    }

    /** Nanoseconds until the deadline (negative past it). */
    long remainingNanos() {
      return deadlineNanos - System.nanoTime();
    }

    /**
     * True past the deadline, or once the client closed (or dropped) a connection seen open. Polled
     * from one thread at a time: the handler's, or a batch's runner in batching mode.
     */
    boolean cancelled() {
      if (System.nanoTime() > deadlineNanos) {
        return true;
      }
      return cancelled(ClientWatch.state(exchange.getLocalAddress(), exchange.getRemoteAddress()));
    }

    // --- issue 13: a batch reads the kernel's tables once for all its rows ---
    /** The connection's local and remote address, for {@link ClientWatch#states}. */
    java.net.InetSocketAddress[] addresses() {
      return new java.net.InetSocketAddress[] {
        exchange.getLocalAddress(), exchange.getRemoteAddress()
      };
    }

    /** {@link #cancelled()} with the connection's state already read. */
    boolean cancelled(ClientWatch.State st) {
      if (System.nanoTime() > deadlineNanos) {
        return true;
      }
      seenOpen |= st == ClientWatch.State.OPEN;
      return st == ClientWatch.State.CLOSED || st == ClientWatch.State.ABSENT && seenOpen;
    }
  }

  private void handle(HttpExchange ex, String endpoint, boolean post, Work work) {
    handle(ex, endpoint, post, post, work);
  }

  private void handle(HttpExchange ex, String endpoint, boolean post, boolean admit, Work work) {
    long t0 = System.nanoTime();
    int status = 500;
    try (ex) {
      Reply reply;
      boolean admitted = false;
      try {
        if (!ex.getRequestMethod().equals(post ? "POST" : "GET")) {
          throw new HttpError(405, endpoint + " takes " + (post ? "POST" : "GET"));
        }
        Map<String, String> query = query(ex.getRequestURI().getRawQuery());
        byte[] body = post ? readBody(ex) : new byte[0];
        if (admit) {
          admission.acquire();
          admitted = true;
        }
        metrics.inFlight.incrementAndGet();
        try {
          reply = work.run(new Request(query, body, ex, t0 + config.requestTimeout().toNanos()));
        } finally {
          metrics.inFlight.decrementAndGet();
        }
      } catch (HttpError e) {
        reply = error(e.status, e.getMessage());
      } catch (CancellationException e) {
        metrics.cancelled.increment();
        reply =
            error(
                503,
                "cancelled: the client went away or the request ran past "
                    + config.requestTimeout().toMillis()
                    + " ms");
      } catch (IllegalArgumentException e) {
        reply = error(400, e.getMessage());
      } catch (IOException e) {
        reply = error(400, e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        reply = error(503, "server shutting down");
      } finally {
        if (admitted) {
          admission.release();
        }
      }
      status = reply.status();
      ex.getResponseHeaders().set("Content-Type", reply.type());
      reply.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
      if (status == 413) {
        // the body was not read: the connection cannot carry another request
        ex.getResponseHeaders().set("Connection", "close");
      }
      ex.sendResponseHeaders(reply.status(), reply.body().length == 0 ? -1 : reply.body().length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(reply.body());
      }
    } catch (IOException e) {
      status = 499; // the client closed the connection before the answer was written
    } catch (RuntimeException | Error e) {
      LOG.log(System.Logger.Level.ERROR, "internal error on " + endpoint, e);
      try {
        ex.sendResponseHeaders(500, -1);
      } catch (IOException | RuntimeException ignored) {
        // headers may be gone already; the exchange is closed either way
      }
    } finally {
      metrics.record(endpoint, status, System.nanoTime() - t0);
    }
  }

  private static Reply error(int status, String message) {
    return new Reply(
        status,
        "text/plain; charset=utf-8",
        (message + "\n").getBytes(StandardCharsets.UTF_8),
        status == 503 ? Map.of("Retry-After", "1") : Map.of());
  }

  private byte[] readBody(HttpExchange ex) throws IOException {
    String length = ex.getRequestHeaders().getFirst("Content-Length");
    if (length != null) {
      long n;
      try {
        n = Long.parseLong(length.trim());
      } catch (NumberFormatException e) {
        throw new HttpError(400, "Content-Length " + length + " is not a number");
      }
      if (n > config.maxBodyBytes()) {
        throw new HttpError(
            413, "request body of " + n + " bytes is above the limit of " + config.maxBodyBytes());
      }
    }
    try (InputStream in = ex.getRequestBody()) {
      byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, config.maxBodyBytes() + 1));
      if (body.length > config.maxBodyBytes()) {
        throw new HttpError(
            413, "request body is above the limit of " + config.maxBodyBytes() + " bytes");
      }
      return body;
    }
  }

  static Map<String, String> query(String raw) {
    Map<String, String> q = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return q;
    }
    for (String part : raw.split("&")) {
      int eq = part.indexOf('=');
      String k = URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
      String v = eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
      if (q.put(k, v) != null) {
        throw new HttpError(400, "query parameter " + k + " is given twice");
      }
    }
    return q;
  }

  /** Decodes an image body, checking its size from the header first. */
  BufferedImage image(byte[] body) throws IOException {
    if (body.length == 0) {
      throw new HttpError(400, "empty body: send an image (PNG, JPEG, BMP or GIF)");
    }
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(body))) {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new HttpError(
            415, "the body is not an image format this server reads (PNG, JPEG, BMP, GIF)");
      }
      ImageReader r = readers.next();
      try {
        r.setInput(in, true, true);
        long w = r.getWidth(0);
        long h = r.getHeight(0);
        if (w * h > config.maxPixels()) {
          throw new HttpError(
              413,
              "image of "
                  + w
                  + "x"
                  + h
                  + " pixels is above the limit of "
                  + config.maxPixels()
                  + " pixels");
        }
        return r.read(0);
      } catch (IOException | RuntimeException e) {
        if (e instanceof HttpError h) {
          throw h;
        }
        throw new HttpError(400, "malformed image: " + e.getMessage());
      } finally {
        r.dispose();
      }
    }
  }

  static byte[] png(BufferedImage image) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (!ImageIO.write(image, "png", out)) {
      throw new IllegalStateException("no PNG writer for image type " + image.getType());
    }
    return out.toByteArray();
  }

  private static void checkCancelled(Request r) {
    if (r.cancelled()) {
      throw new CancellationException();
    }
  }

  private Reply reconstruct(Request r) throws IOException {
    String fit = r.query().getOrDefault("fit", "tile");
    ImageFit f =
        switch (fit) {
          case "tile" -> ImageFit.TILE;
          case "resize" -> ImageFit.RESIZE;
          default -> throw new HttpError(400, "fit must be tile or resize, got " + fit);
        };
    BufferedImage in = image(r.body());
    checkCancelled(r);
    return Reply.of("image/png", png(tokenizer.reconstruct(in, f)));
  }

  private Reply encode(Request r) throws IOException {
    BufferedImage in = image(r.body());
    checkCancelled(r);
    Latents z = tokenizer.encode(List.of(in));
    ByteBuffer buf = ByteBuffer.allocate(z.values().length * 4).order(ByteOrder.LITTLE_ENDIAN);
    buf.asFloatBuffer().put(z.values());
    return new Reply(
        200,
        "application/octet-stream",
        buf.array(),
        Map.of("X-RecTok-Latent-Shape", z.channels() + "," + z.height() + "," + z.width()));
  }

  private Reply decode(Request r) throws IOException {
    int[] shape = tokenizer.latentShape();
    int n = shape[0] * shape[1] * shape[2];
    if (r.body().length != n * 4) {
      throw new HttpError(
          400,
          "decode takes one latent of "
              + shape[0]
              + "x"
              + shape[1]
              + "x"
              + shape[2]
              + " = "
              + n
              + " little-endian float32 values ("
              + n * 4
              + " bytes), got "
              + r.body().length
              + " bytes");
    }
    float[] v = new float[n];
    ByteBuffer.wrap(r.body()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
    for (int i = 0; i < n; i++) {
      if (!Float.isFinite(v[i])) {
        throw new HttpError(
            400, "latent value " + i + " is " + v[i] + ": every value must be finite");
      }
    }
    boolean normalized = !"false".equals(r.query().get("normalized"));
    return Reply.of(
        "image/png",
        png(
            tokenizer
                .decode(new Latents(v, 1, shape[0], shape[1], shape[2], normalized))
                .getFirst()));
  }

  private static long number(Map<String, String> q, String name, long def, long min, long max) {
    String s = q.get(name);
    if (s == null) {
      return def;
    }
    long v;
    try {
      v = Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      throw new HttpError(
          400, name + " must be an integer in " + min + ".." + max + ", got '" + s + "'");
    }
    if (v < min || v > max) {
      throw new HttpError(400, name + " must be in " + min + ".." + max + ", got " + v);
    }
    return v;
  }

  private Reply generate(Request r) throws IOException, InterruptedException {
    Map<String, String> q = r.query();
    if (!q.containsKey("label")) {
      throw new HttpError(400, "label is required (0.." + (generator.numClasses() - 1) + ")");
    }
    long label = number(q, "label", 0, 0, generator.numClasses() - 1);
    long seed = number(q, "seed", 0, Long.MIN_VALUE, Long.MAX_VALUE);
    int steps = (int) number(q, "steps", 32, 1, config.maxSteps());
    String g = q.getOrDefault("guidance", "none");
    GenerateOptions.GuidanceKind kind =
        switch (g) {
          case "none" -> GenerateOptions.GuidanceKind.NONE;
          case "cfg" -> GenerateOptions.GuidanceKind.CFG;
          case "autoguidance" -> GenerateOptions.GuidanceKind.AUTOGUIDANCE;
          default ->
              throw new HttpError(400, "guidance must be none, cfg or autoguidance, got " + g);
        };
    double scale;
    try {
      scale = Double.parseDouble(q.getOrDefault("scale", "1.5"));
    } catch (NumberFormatException e) {
      throw new HttpError(400, "scale must be a number in 0..20, got '" + q.get("scale") + "'");
    }
    if (!(scale >= 0 && scale <= 20)) {
      throw new HttpError(400, "scale must be in 0..20, got " + q.get("scale"));
    }
    if (batcher != null) {
      // issue 13: scale does nothing without guidance, so it does not split batches there
      GenerateBatcher.Key key =
          new GenerateBatcher.Key(
              steps, kind, kind == GenerateOptions.GuidanceKind.NONE ? 0 : scale);
      return Reply.of("image/png", png(batcher.submit(key, label, seed, r)));
    }
    GenerateOptions options =
        GenerateOptions.builder()
            .gridPoints(steps + 1)
            .guidance(kind, scale)
            .cancelled(r::cancelled)
            .build();
    Latents z = generator.sample(new long[] {label}, seed, options, Progress.NONE);
    return Reply.of("image/png", png(tokenizer.decode(z).getFirst()));
  }

  private Reply health(Request r) {
    // stable fields only; the moving numbers are in /metrics
    String json =
        "{\"status\":\"ok\",\"backend\":\""
            + backend.name()
            + "\",\"imageSize\":"
            + tokenizer.imageSize()
            + ",\"classes\":"
            + generator.numClasses()
            + "}";
    return Reply.of("application/json", json.getBytes(StandardCharsets.UTF_8));
  }

  private Reply metricsText(Request r) {
    return Reply.of(
        "text/plain; version=0.0.4",
        metrics
            .prometheus(admission.waiting(), backend.nativeMemory())
            .getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Serves the shipped Fashion-MNIST models (from the class path) or model files: {@code [--port N]
   * [--concurrency N] [--queue N] [--max-batch N] [--batch-window-ms N] [--tokenizer F --generator
   * F [--guide F]]}. Runs until the process is stopped.
   *
   * @param args the options
   * @throws IllegalArgumentException for an unknown option or a value out of range, with the
   *     allowed range
   * @throws Exception when the models cannot be opened or the port bound
   */
  public static void main(String[] args) throws Exception {
    Map<String, String> a = MainOptions.parse(args);
    ServerConfig c = MainOptions.config(a);
    Backend backend = Backends.load(RecTokServer.class.getClassLoader());
    try (Tokenizer tok =
            a.containsKey("tokenizer")
                ? backend.openTokenizer(Path.of(a.get("tokenizer")), Device.CPU)
                : Backends.openTokenizerResource(
                    FashionMnistModels.TOKENIZER, FashionMnistModels.loader(), Device.CPU);
        Generator gen =
            a.containsKey("generator")
                ? Backends.openGenerator(
                    Path.of(a.get("generator")),
                    a.containsKey("guide") ? Path.of(a.get("guide")) : null,
                    Device.CPU)
                : Backends.openGeneratorResource(
                    FashionMnistModels.GENERATOR,
                    FashionMnistModels.GUIDE,
                    FashionMnistModels.loader(),
                    Device.CPU);
        RecTokServer s = new RecTokServer(c, tok, gen, backend)) {
      s.start();
      System.out.println(
          "RecTok server on http://" + c.host() + ":" + s.port() + "/ (Ctrl-C stops it)");
      Thread.currentThread().join();
    }
  }
}
