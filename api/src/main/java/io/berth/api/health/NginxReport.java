package io.berth.api.health;

import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The worker's report in {@code <prefix>health:nginx}, as the API reads it for /health and the
 * {@code berth_nginx_*} metrics.
 *
 * @param ok             Nginx runs
 * @param atMillis       when the report was written (0: no report)
 * @param lastError      the last failed route change (an {@code nginx -t} or reload error), or empty
 * @param lastErrorAtMillis when that failure happened (0: none since the worker started)
 */
public record NginxReport(boolean ok, long atMillis, String detail, long reloadFailures, String lastError,
                          long lastErrorAtMillis) {
  /** The worker writes every 2 s and the key expires after 10 s; older than this is a dead writer. */
  public static final Duration STALE_AFTER = Duration.ofMinutes(2);
  /** How long /health shows a failed route change as "degraded". */
  public static final Duration DEGRADED_FOR = Duration.ofMinutes(10);
  private static final int MAX_DETAIL = 200;
  private static final Pattern PATH = Pattern.compile("(?:/[^\\s/:;\"']+)+/([^\\s/:;\"']+)");

  public static NginxReport parse(Map<String, String> h) {
    if (h == null || h.isEmpty()) {
      return new NginxReport(false, 0, "", 0, "", 0);
    }
    String ok = h.get("ok");
    return new NginxReport("true".equalsIgnoreCase(ok) || "1".equals(ok), number(h.get("at")),
        h.getOrDefault("detail", ""), number(h.get("reloadFailures")), h.getOrDefault("lastError", ""),
        number(h.get("lastErrorAt")));
  }

  public boolean fresh(long nowMillis) {
    return atMillis > 0 && nowMillis - atMillis <= STALE_AFTER.toMillis();
  }

  /** A fresh report of a running Nginx whose last route change failed within {@link #DEGRADED_FOR}. */
  public boolean degraded(long nowMillis) {
    return ok && fresh(nowMillis) && lastErrorAtMillis > 0 && nowMillis - lastErrorAtMillis <= DEGRADED_FOR.toMillis();
  }

  /**
   * The last failure for a public page: its most telling line (Nginx's {@code [emerg]} one), file
   * paths cut to the file's name, control characters dropped, at most {@value #MAX_DETAIL} chars.
   */
  public String publicLastError() {
    String line = "";
    for (String l : lastError.split("\\R")) {
      if (l.contains("[emerg]") || l.contains("[alert]")) {
        line = l;
        break;
      }
      if (line.isBlank()) {
        line = l;
      }
    }
    String s = PATH.matcher(line).replaceAll("$1").replaceAll("\\p{Cntrl}", " ").strip();
    return s.length() <= MAX_DETAIL ? s : s.substring(0, MAX_DETAIL) + "...";
  }

  private static long number(String v) {
    try {
      return v == null || v.isBlank() ? 0 : Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
