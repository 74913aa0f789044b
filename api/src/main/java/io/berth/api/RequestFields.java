package io.berth.api;

import io.berth.api.errors.ApiException;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.core.type.Argument;
import io.micronaut.json.JsonMapper;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The optional fields of a call that scripts and browsers make however their client shapes it:
 * no body, {@code curl -d ''} (a form content type and no bytes), a form, {@code text/plain} (a
 * beacon), or JSON. Routes that take it consume any content type: a route that consumed JSON
 * only did not match the others, and Micronaut's security then answered 401 before any
 * controller ran. A form is read as a form; anything else that is not empty must be a JSON object.
 */
public final class RequestFields {
  /** Larger than any body these calls need; a larger one is refused without being parsed. */
  public static final int MAX_BYTES = 8192;
  private static final RequestFields NONE = new RequestFields(Map.of());

  private final Map<String, Object> fields;

  private RequestFields(Map<String, Object> fields) {
    this.fields = fields;
  }

  public static RequestFields parse(@Nullable byte[] body, @Nullable String contentType, JsonMapper json) {
    if (body == null || body.length == 0 || blank(body)) {
      return NONE;
    }
    if (body.length > MAX_BYTES) {
      throw ApiException.tooLarge("the body may hold at most " + MAX_BYTES + " bytes");
    }
    String text = new String(body, StandardCharsets.UTF_8);
    if (contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
      return new RequestFields(form(text));
    }
    try {
      Map<String, Object> map = json.readValue(text, Argument.mapOf(String.class, Object.class));
      if (map == null) {
        throw new IOException("null");
      }
      return new RequestFields(map);
    } catch (IOException | RuntimeException e) {
      throw ApiException.badRequest("the body must be a JSON object or a form");
    }
  }

  /** The field as text, or null when absent; a number given in JSON is its decimal text. */
  @Nullable
  public String text(String name) {
    Object v = fields.get(name);
    if (v == null) {
      return null;
    }
    if (v instanceof String || v instanceof Number) {
      return v.toString();
    }
    throw ApiException.badRequest(name + " must be a string");
  }

  /** The field as a whole number, or null when absent or empty. */
  @Nullable
  public Long whole(String name) {
    Object v = fields.get(name);
    if (v instanceof Number n && n.doubleValue() == n.longValue()) {
      return n.longValue();
    }
    if (v == null || v instanceof String s && s.isBlank()) {
      return null;
    }
    try {
      return Long.parseLong(v.toString().trim());
    } catch (NumberFormatException e) {
      throw ApiException.badRequest(name + " must be a whole number");
    }
  }

  private static Map<String, Object> form(String text) {
    Map<String, Object> out = new HashMap<>();
    for (String pair : text.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      try {
        String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        out.putIfAbsent(k, v);
      } catch (IllegalArgumentException e) {
        throw ApiException.badRequest("the form is not URL-encoded");
      }
    }
    return out;
  }

  private static boolean blank(byte[] body) {
    for (byte b : body) {
      if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
        return false;
      }
    }
    return true;
  }
}
