package dev.rectok.models;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads and writes configuration records through their Jackson annotations, so one declaration (the
 * record's {@code @JsonProperty} names, the reference's snake_case argument names) is both the
 * reader and the writer. Missing keys take the values of a defaults instance (the reference
 * constructor's defaults); unknown keys are refused with their path, since they are most likely
 * typos or arguments this SDK does not implement; the record's own validation messages pass through
 * unchanged.
 *
 * <p>Stateless and thread-safe (the mapper is configured once and never changed).
 */
public final class ConfigJson {
  // Scalars are taken as written: 2.5 is not an int and "3" is not a number (a config value of the
  // wrong type is a mistake to report, not to round).
  private static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
          .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
          .build();
  private static final Pattern MISSING =
      Pattern.compile("Missing (?:required )?creator property '([^']*)'");

  private ConfigJson() {}

  /**
   * {@code given} over {@code defaults}, as a {@code type}.
   *
   * @param <T> the record type
   * @param given the JSON object read (only read, never changed)
   * @param type the record class, annotated with its JSON names
   * @param defaults the values of keys {@code given} leaves out
   * @param where the path of {@code given} in its document ({@code "constructor_kwargs"}), used in
   *     messages; empty for the document root
   * @throws IllegalArgumentException naming the path of an unknown key or a malformed value, or the
   *     record's own validation failure
   * @return the record
   */
  public static <T> T read(JsonNode given, Class<T> type, T defaults, String where) {
    if (given == null || !given.isObject()) {
      throw new IllegalArgumentException(
          (where.isEmpty() ? "the configuration" : where) + " must be a JSON object, got " + given);
    }
    ObjectNode merged = MAPPER.valueToTree(defaults);
    merged.setAll((ObjectNode) given);
    return convert(merged, type, where, MAPPER.readerFor(type));
  }

  /**
   * {@code given} as a {@code type} with every key required: for files that must say everything (a
   * model file's configuration), where a missing key is damage, not a default.
   *
   * @param <T> the record type
   * @param given the JSON object read
   * @param type the record class, annotated with its JSON names
   * @param where the path of {@code given} in its document, for messages; empty for the root
   * @throws IllegalArgumentException naming a missing or unknown key, a malformed value, or the
   *     record's own validation failure
   * @return the record
   */
  public static <T> T readComplete(JsonNode given, Class<T> type, String where) {
    if (given == null || !given.isObject()) {
      throw new IllegalArgumentException(
          (where.isEmpty() ? "the configuration" : where) + " must be a JSON object, got " + given);
    }
    return convert(
        given,
        type,
        where,
        MAPPER.readerFor(type).with(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES));
  }

  private static <T> T convert(JsonNode tree, Class<T> type, String where, ObjectReader reader) {
    try {
      return reader.readValue(tree);
    } catch (UnrecognizedPropertyException e) {
      throw new IllegalArgumentException(
          "unknown key '"
              + path(where, e)
              + "' in a "
              + type.getSimpleName()
              + " (known: "
              + e.getKnownPropertyIds()
              + ")",
          e);
    } catch (IOException e) {
      if (e.getCause() instanceof IllegalArgumentException iae) {
        throw iae; // the record's own validation, already worded for the user
      }
      String original = e instanceof JsonProcessingException j ? j.getOriginalMessage() : "";
      Matcher missing = MISSING.matcher(original);
      if (missing.find()) {
        String key = where.isEmpty() ? missing.group(1) : where + "." + missing.group(1);
        throw new IllegalArgumentException(
            "missing key '" + key + "' in a " + type.getSimpleName(), e);
      }
      String at = e instanceof JsonMappingException m ? path(where, m) : where;
      throw new IllegalArgumentException(
          "malformed value at '" + at + "' in a " + type.getSimpleName() + ": " + original, e);
    }
  }

  /**
   * {@code config} as a JSON object under its declared names, every key written.
   *
   * @param config a record annotated with its JSON names
   * @return a new JSON object owned by the caller
   */
  public static ObjectNode write(Object config) {
    return MAPPER.valueToTree(config);
  }

  private static String path(String where, JsonMappingException e) {
    String inner =
        e.getPath().stream()
            .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
            .collect(Collectors.joining("."));
    return where.isEmpty() ? inner : where + "." + inner;
  }

  /**
   * A pair of ints, also accepted as a single number meaning the same value twice ({@code n} for
   * {@code [n, n]}, as the reference's constructors accept). Written as a two-element array.
   * Stateless; thread-safe.
   */
  public static final class IntPair extends JsonDeserializer<List<Integer>> {
    /** Jackson instantiates it from the annotation. */
    public IntPair() {}

    @Override
    public List<Integer> deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
      JsonNode v = p.readValueAsTree();
      if (v.isArray()) {
        return java.util.stream.StreamSupport.stream(v.spliterator(), false)
            .map(JsonNode::asInt)
            .toList();
      }
      if (!v.isNumber()) {
        return ctx.reportInputMismatch(
            List.class, "expected a number or a pair of numbers, got %s", v);
      }
      return List.of(v.asInt(), v.asInt());
    }
  }
}
