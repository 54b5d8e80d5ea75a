package dev.rectok.models.stats;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.torch.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The resumable state of a {@link StatisticsCollector} pass, stored as JSON: where in the list the
 * next batch starts, the float32 per-channel sums and sums of squares so far, and what the state
 * belongs to (list identity, batch size, channels, image size). Mutable; used by one thread.
 */
final class CollectorCheckpoint {
  static final String FORMAT = "rectok-latent-statistics-checkpoint";
  static final int VERSION = 1;

  final String listIdentity;
  final int batchSize;
  final int channels;
  final int imgSize;
  int position;
  long images;
  long count;
  long skipped;
  final float[] sum;
  final float[] sumSq;

  CollectorCheckpoint(String listIdentity, int batchSize, int channels, int imgSize) {
    this.listIdentity = listIdentity;
    this.batchSize = batchSize;
    this.channels = channels;
    this.imgSize = imgSize;
    this.sum = new float[channels];
    this.sumSq = new float[channels];
  }

  void write(Path file) throws IOException {
    ObjectNode root = LatentStatistics.json().createObjectNode();
    root.put("format", FORMAT);
    root.put("version", VERSION);
    root.put("list", listIdentity);
    root.put("batchSize", batchSize);
    root.put("channels", channels);
    root.put("imgSize", imgSize);
    root.put("position", position);
    root.put("images", images);
    root.put("count", count);
    root.put("skipped", skipped);
    ArrayNode s = root.putArray("sum");
    ArrayNode q = root.putArray("sumSq");
    for (int c = 0; c < channels; c++) {
      s.add(sum[c]);
      q.add(sumSq[c]);
    }
    AtomicFiles.write(file, LatentStatistics.json().writeValueAsBytes(root));
  }

  /**
   * Reads {@code file} and checks that it belongs to the given pass.
   *
   * @throws IOException when the file is malformed, or was written for another list, batch size,
   *     channel count or image size
   */
  static CollectorCheckpoint read(
      Path file, String listIdentity, int batchSize, int channels, int imgSize) throws IOException {
    JsonNode root;
    try {
      root = LatentStatistics.readJson(Files.readAllBytes(file));
    } catch (JsonProcessingException e) {
      throw new IOException(
          "statistics checkpoint " + file + " is not valid JSON: " + e.getOriginalMessage(), e);
    }
    try {
      if (root == null
          || !root.isObject()
          || !FORMAT.equals(LatentStatistics.text(root, "format"))) {
        throw new IllegalArgumentException("not a statistics checkpoint");
      }
      if (LatentStatistics.integer(root, "version") != VERSION) {
        throw new IllegalArgumentException("unsupported version " + root.get("version"));
      }
      String list = LatentStatistics.text(root, "list");
      if (!list.equals(listIdentity)) {
        throw new IllegalArgumentException(
            "it was written for a different image list ("
                + list
                + ", this list is "
                + listIdentity
                + "); delete it to start over");
      }
      mustEqual("batchSize", LatentStatistics.integer(root, "batchSize"), batchSize);
      mustEqual("channels", LatentStatistics.integer(root, "channels"), channels);
      mustEqual("imgSize", LatentStatistics.integer(root, "imgSize"), imgSize);
      CollectorCheckpoint cp = new CollectorCheckpoint(list, batchSize, channels, imgSize);
      long pos = LatentStatistics.integer(root, "position");
      long size = Long.parseLong(listIdentity.substring(0, listIdentity.indexOf(':')));
      if (pos < 0 || pos > size) {
        throw new IllegalArgumentException("position " + pos + " outside the list of " + size);
      }
      cp.position = (int) pos;
      cp.images = LatentStatistics.integer(root, "images");
      cp.count = LatentStatistics.integer(root, "count");
      cp.skipped = LatentStatistics.integer(root, "skipped");
      if (cp.images < 0 || cp.count < 0 || cp.skipped < 0 || cp.images + cp.skipped != pos) {
        throw new IllegalArgumentException(
            "inconsistent counts: images "
                + cp.images
                + " + skipped "
                + cp.skipped
                + " != position "
                + pos);
      }
      float[] s = LatentStatistics.floats(root, "sum");
      float[] q = LatentStatistics.floats(root, "sumSq");
      if (s.length != channels || q.length != channels) {
        throw new IllegalArgumentException(
            "sums have " + s.length + "/" + q.length + " values, expected " + channels);
      }
      System.arraycopy(s, 0, cp.sum, 0, channels);
      System.arraycopy(q, 0, cp.sumSq, 0, channels);
      return cp;
    } catch (IllegalArgumentException e) {
      throw new IOException(
          "cannot resume from statistics checkpoint " + file + ": " + e.getMessage(), e);
    }
  }

  private static void mustEqual(String field, long found, long expected) {
    if (found != expected) {
      throw new IllegalArgumentException(
          "it was written with " + field + " " + found + ", this pass uses " + expected);
    }
  }
}
