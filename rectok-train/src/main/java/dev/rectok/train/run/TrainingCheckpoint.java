package dev.rectok.train.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rectok.torch.Scope;
import dev.rectok.torch.Tensor;
import dev.rectok.torch.TorchGenerator;
import dev.rectok.torch.io.CheckpointFormatException;
import dev.rectok.torch.io.HostTensor;
import dev.rectok.torch.io.SafeTensors;
import dev.rectok.torch.io.SafeTensorsFile;
import dev.rectok.torch.nn.Module;
import dev.rectok.torch.optim.Optimizer;
import dev.rectok.torch.optim.ParamGroup;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * Everything a training run needs to continue bit-identically: named modules' state dicts (for
 * example {@code "model"}, {@code "ema"}, {@code "discriminator"}), named optimizers' state and
 * group learning rates, named {@link TorchGenerator} states, and the {@link Counters} (step, epoch,
 * data position, free-form JSON extras).
 *
 * <p>Register the live objects once, then {@link #write} or {@link #read} as often as needed:
 *
 * <pre>{@code
 * TrainingCheckpoint ckpt = new TrainingCheckpoint()
 *     .module("model", model).module("ema", ema)
 *     .optimizer("opt", adamw)
 *     .generator("data", dataGen);
 * ckpt.write(file, new Counters(step, epoch, position, extras));
 * Counters resumed = ckpt.read(file); // restores the registered objects in place
 * }</pre>
 *
 * <p><b>File format.</b> One safetensors file: tensors {@code module/<name>/<key>}, {@code
 * optim/<name>/<key>} and {@code rng/<name>} (CPU copies), and in {@code __metadata__} under
 * {@value #METADATA_KEY} a JSON object with the format name and version, the counters, the
 * inventory of registered names and each optimizer's learning rates, and under {@value #CRC_KEY} a
 * CRC-32C over that description and every tensor's name, dtype, shape and bytes. Writing is atomic
 * ({@link SafeTensors#write}: temp file, fsync, rename). Reading checks the safetensors framing,
 * the format marker, the checksum and that the file holds exactly the registered names before
 * anything is restored; a truncated, corrupted or foreign file fails with {@link
 * CheckpointFormatException} naming the file and the problem.
 *
 * <p><b>Ownership and threading.</b> The checkpoint only borrows the registered objects (it never
 * closes them) and holds no native memory between calls. Not thread-safe: call it from the training
 * thread while no step runs. If {@link #read} fails after validation (a shape that does not fit a
 * registered module or optimizer), some objects may already be restored; discard them.
 */
public final class TrainingCheckpoint {
  /** The {@code __metadata__} key of the checkpoint description. */
  public static final String METADATA_KEY = "rectok.training_checkpoint";

  /** The {@code __metadata__} key of the CRC-32C over the description, tensor headers and data. */
  public static final String CRC_KEY = "rectok.training_checkpoint.crc32c";

  /** The format name written into the description. */
  public static final String FORMAT = "rectok-training-checkpoint";

  /** The format version this code writes and reads. */
  public static final int VERSION = 1;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]+");
  static final JsonMapper JSON = JsonMapper.builder().build();

  private final LinkedHashMap<String, Module> modules = new LinkedHashMap<>();
  private final LinkedHashMap<String, Optimizer> optimizers = new LinkedHashMap<>();
  private final LinkedHashMap<String, TorchGenerator> generators = new LinkedHashMap<>();

  /**
   * Where a run stands.
   *
   * @param step optimizer steps done
   * @param epoch the current epoch
   * @param dataPosition an opaque data-loader position (for example epoch, batch, offset); may be
   *     empty
   * @param extras free-form JSON (for example the best metric so far); {@code null} means none
   */
  public record Counters(long step, long epoch, long[] dataPosition, JsonNode extras) {
    public Counters {
      dataPosition = dataPosition == null ? new long[0] : dataPosition.clone();
      extras = extras == null ? JsonNodeFactory.instance.objectNode() : extras.deepCopy();
    }

    /** Counters without data position or extras. */
    public Counters(long step, long epoch) {
      this(step, epoch, null, null);
    }

    @Override
    public long[] dataPosition() {
      return dataPosition.clone();
    }

    @Override
    public JsonNode extras() {
      return extras.deepCopy();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Counters c
          && c.step == step
          && c.epoch == epoch
          && Arrays.equals(c.dataPosition, dataPosition)
          && c.extras.equals(extras);
    }

    @Override
    public int hashCode() {
      return Objects.hash(step, epoch, Arrays.hashCode(dataPosition), extras);
    }

    @Override
    public String toString() {
      return "Counters[step="
          + step
          + ", epoch="
          + epoch
          + ", dataPosition="
          + Arrays.toString(dataPosition)
          + ", extras="
          + extras
          + "]";
    }
  }

  /** Registers a module whose state dict (parameters and persistent buffers) is saved. */
  public TrainingCheckpoint module(String name, Module module) {
    register(modules, name, module);
    return this;
  }

  /** Registers an optimizer whose state and group learning rates are saved. */
  public TrainingCheckpoint optimizer(String name, Optimizer optimizer) {
    register(optimizers, name, optimizer);
    return this;
  }

  /** Registers a random generator whose state is saved. */
  public TrainingCheckpoint generator(String name, TorchGenerator generator) {
    register(generators, name, generator);
    return this;
  }

  private <T> void register(Map<String, T> map, String name, T value) {
    Objects.requireNonNull(value, "value");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "invalid checkpoint name '" + name + "' (letters, digits, _ . - only)");
    }
    if (map.containsKey(name)) {
      throw new IllegalArgumentException("'" + name + "' is already registered");
    }
    map.put(name, value);
  }

  /**
   * Writes the registered objects' state and {@code counters} to {@code file} atomically.
   *
   * @throws IOException if writing fails; {@code file} is then untouched
   */
  public void write(Path file, Counters counters) throws IOException {
    Objects.requireNonNull(counters, "counters");
    try (Arena arena = Arena.ofConfined();
        Scope scope = Scope.open()) {
      LinkedHashMap<String, HostTensor> tensors = new LinkedHashMap<>();
      ObjectNode inventory = JSON.createObjectNode();
      ArrayNode moduleNames = inventory.putArray("modules");
      for (var m : modules.entrySet()) {
        moduleNames.add(m.getKey());
        for (var e : m.getValue().stateDict().entrySet()) {
          tensors.put("module/" + m.getKey() + "/" + e.getKey(), e.getValue().toHost(arena));
        }
      }
      ObjectNode optimizerInfo = inventory.putObject("optimizers");
      for (var o : optimizers.entrySet()) {
        ArrayNode lrs =
            optimizerInfo
                .putObject(o.getKey())
                .put("type", o.getValue().getClass().getSimpleName())
                .putArray("lr");
        o.getValue().paramGroups().forEach(g -> lrs.add(g.lr()));
        for (var e : o.getValue().exportState().entrySet()) {
          tensors.put("optim/" + o.getKey() + "/" + e.getKey(), e.getValue().toHost(arena));
        }
      }
      ArrayNode generatorNames = inventory.putArray("generators");
      for (var g : generators.entrySet()) {
        generatorNames.add(g.getKey());
        tensors.put("rng/" + g.getKey(), g.getValue().getState().toHost(arena));
      }
      ObjectNode meta = JSON.createObjectNode();
      meta.put("format", FORMAT).put("version", VERSION);
      meta.put("step", counters.step()).put("epoch", counters.epoch());
      ArrayNode pos = meta.putArray("data_position");
      for (long p : counters.dataPosition) {
        pos.add(p);
      }
      meta.set("extras", counters.extras);
      meta.setAll(inventory);
      meta.put("tensors", tensors.size());
      String description = JSON.writeValueAsString(meta);
      CRC32C crc = new CRC32C();
      crc.update(description.getBytes(StandardCharsets.UTF_8));
      tensors.forEach((name, t) -> update(crc, name, t));
      SafeTensors.write(
          file,
          tensors,
          Map.of(METADATA_KEY, description, CRC_KEY, Long.toHexString(crc.getValue())));
    }
  }

  // Name, dtype and shape too: with the description, every byte that matters is covered.
  private static void update(CRC32C crc, String name, HostTensor t) {
    crc.update(name.getBytes(StandardCharsets.UTF_8));
    crc.update(0);
    crc.update(t.dtype().safetensorsName().getBytes(StandardCharsets.UTF_8));
    for (long d : t.shape()) {
      crc.update(java.nio.ByteBuffer.allocate(8).putLong(0, d));
    }
    update(crc, t.data());
  }

  private static void update(CRC32C crc, MemorySegment seg) {
    long size = seg.byteSize();
    for (long off = 0; off < size; ) {
      int n = (int) Math.min(1L << 30, size - off);
      MemorySegment slice = seg.asSlice(off, n);
      crc.update(
          slice.isNative() || slice.isMapped()
              ? slice.asByteBuffer()
              : java.nio.ByteBuffer.wrap(slice.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)));
      off += n;
    }
  }

  /**
   * Reads only the counters of a checkpoint, after validating its framing, format and checksum;
   * restores nothing.
   *
   * @throws CheckpointFormatException if the file is not a complete, intact training checkpoint
   */
  public static Counters peek(Path file) throws IOException {
    try (SafeTensorsFile f = SafeTensors.open(file)) {
      return counters(file, validate(file, f));
    }
  }

  /**
   * Validates {@code file} and restores every registered object from it.
   *
   * @return the counters stored with it
   * @throws CheckpointFormatException if the file is truncated, corrupted, foreign, or does not
   *     hold exactly the registered names with fitting shapes
   */
  public Counters read(Path file) throws IOException {
    try (SafeTensorsFile f = SafeTensors.open(file)) {
      JsonNode meta = validate(file, f);
      checkInventory(file, "modules", names(meta.get("modules")), modules.keySet());
      checkInventory(file, "optimizers", names(meta.get("optimizers")), optimizers.keySet());
      checkInventory(file, "generators", names(meta.get("generators")), generators.keySet());
      Map<String, Map<String, HostTensor>> byOwner = new LinkedHashMap<>();
      for (String n : f.names()) {
        if (n.startsWith("module/") || n.startsWith("optim/")) {
          int second = n.indexOf('/', n.indexOf('/') + 1);
          if (second < 0) {
            throw new CheckpointFormatException(file + ": tensor name '" + n + "' has no key");
          }
          byOwner
              .computeIfAbsent(n.substring(0, second), k -> new LinkedHashMap<>())
              .put(n.substring(second + 1), f.get(n));
        } else if (n.startsWith("rng/")) {
          byOwner.computeIfAbsent(n, k -> new LinkedHashMap<>()).put("", f.get(n));
        } else {
          throw new CheckpointFormatException(file + ": unexpected tensor '" + n + "'");
        }
      }
      try (Scope scope = Scope.open()) {
        for (var g : generators.entrySet()) {
          HostTensor state = byOwner.getOrDefault("rng/" + g.getKey(), Map.of()).get("");
          if (state == null) {
            throw new CheckpointFormatException(
                file + ": no state for generator '" + g.getKey() + "'");
          }
          g.getValue().setState(Tensor.fromHost(state));
        }
        for (var m : modules.entrySet()) {
          try {
            m.getValue()
                .loadHostStateDict(byOwner.getOrDefault("module/" + m.getKey(), Map.of()), true);
          } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(
                file + ": module '" + m.getKey() + "': " + e.getMessage(), e);
          }
        }
        for (var o : optimizers.entrySet()) {
          List<ParamGroup> groups = o.getValue().paramGroups();
          JsonNode lrs = meta.path("optimizers").path(o.getKey()).path("lr");
          if (!lrs.isArray() || lrs.size() != groups.size()) {
            throw new CheckpointFormatException(
                file
                    + ": optimizer '"
                    + o.getKey()
                    + "' has "
                    + lrs.size()
                    + " learning rates for "
                    + groups.size()
                    + " parameter groups");
          }
          LinkedHashMap<String, Tensor> state = new LinkedHashMap<>();
          byOwner
              .getOrDefault("optim/" + o.getKey(), Map.of())
              .forEach((k, v) -> state.put(k, Tensor.fromHost(v)));
          try {
            o.getValue().importState(state);
          } catch (IllegalArgumentException e) {
            throw new CheckpointFormatException(
                file + ": optimizer '" + o.getKey() + "': " + e.getMessage(), e);
          }
          for (int i = 0; i < groups.size(); i++) {
            groups.get(i).lr(lrs.get(i).doubleValue());
          }
        }
      }
      return counters(file, meta);
    }
  }

  private static JsonNode validate(Path file, SafeTensorsFile f) throws CheckpointFormatException {
    String text = f.metadata().get(METADATA_KEY);
    if (text == null) {
      throw new CheckpointFormatException(
          file + ": not a RecTok training checkpoint (no '" + METADATA_KEY + "' in __metadata__)");
    }
    JsonNode meta;
    try {
      meta = JSON.readTree(text);
    } catch (IOException e) {
      throw new CheckpointFormatException(file + ": checkpoint description is not valid JSON", e);
    }
    if (meta == null || !FORMAT.equals(meta.path("format").asText(null))) {
      throw new CheckpointFormatException(
          file
              + ": not a RecTok training checkpoint (format "
              + (meta == null ? null : meta.get("format"))
              + ")");
    }
    if (meta.path("version").asInt(-1) != VERSION) {
      throw new CheckpointFormatException(
          file
              + ": checkpoint format version "
              + meta.get("version")
              + " is not supported (this code reads "
              + VERSION
              + ")");
    }
    if (meta.path("tensors").asInt(-1) != f.names().size()) {
      throw new CheckpointFormatException(
          file
              + ": the description lists "
              + meta.get("tensors")
              + " tensors but the file holds "
              + f.names().size());
    }
    List<String> byOffset = new ArrayList<>(f.names());
    byOffset.sort(Comparator.comparingLong(n -> f.info(n).begin()));
    CRC32C crc = new CRC32C();
    crc.update(text.getBytes(StandardCharsets.UTF_8));
    byOffset.forEach(n -> update(crc, n, f.get(n)));
    String expected = f.metadata().getOrDefault(CRC_KEY, "(none)");
    if (!expected.equals(Long.toHexString(crc.getValue()))) {
      throw new CheckpointFormatException(
          file
              + ": checksum mismatch (CRC-32C "
              + Long.toHexString(crc.getValue())
              + ", recorded "
              + expected
              + "): the file is corrupted");
    }
    return meta;
  }

  private static Counters counters(Path file, JsonNode meta) throws CheckpointFormatException {
    JsonNode pos = meta.path("data_position");
    if (!meta.path("step").canConvertToLong()
        || !meta.path("epoch").canConvertToLong()
        || !pos.isArray()) {
      throw new CheckpointFormatException(
          file + ": checkpoint description lacks step, epoch or data_position");
    }
    long[] p = new long[pos.size()];
    for (int i = 0; i < p.length; i++) {
      p[i] = pos.get(i).longValue();
    }
    return new Counters(
        meta.get("step").longValue(), meta.get("epoch").longValue(), p, meta.get("extras"));
  }

  private static TreeSet<String> names(JsonNode node) {
    TreeSet<String> out = new TreeSet<>();
    if (node != null && node.isArray()) {
      node.forEach(n -> out.add(n.asText()));
    } else if (node != null && node.isObject()) {
      node.fieldNames().forEachRemaining(out::add);
    }
    return out;
  }

  private static void checkInventory(
      Path file, String kind, TreeSet<String> inFile, java.util.Set<String> registered)
      throws CheckpointFormatException {
    if (!inFile.equals(new TreeSet<>(registered))) {
      throw new CheckpointFormatException(
          file
              + ": the checkpoint holds "
              + kind
              + " "
              + inFile
              + " but "
              + new TreeSet<>(registered)
              + " are registered");
    }
  }
}
