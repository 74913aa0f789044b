package io.berth.api.access;

import io.berth.workflows.model.ProgressStep;
import io.berth.workflows.model.WorkspaceState;
import io.berth.workflows.model.WorkspaceView;
import io.micronaut.core.annotation.Nullable;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;

/**
 * What the owner of a workspace address is told once the workspace is gone: what happened and
 * when, from the last run of their workspace workflow ({@link WakePage} shows it to a browser, the
 * JSON 404 to any other client). Every value that reaches the page is escaped.
 */
final class GonePage {
  private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
      .withZone(ZoneOffset.UTC);

  /** The sentence the page and the JSON answer share, e.g. "reclaimed after 20 min without activity". */
  record Story(String headline, String detail, @Nullable Instant at) {}

  private GonePage() {}

  static Story story(Optional<WorkspaceView> last) {
    if (last.isEmpty()) {
      return new Story("This workspace is no longer running",
          "Berth holds no record of it: it ended, or the service restarted since.", null);
    }
    WorkspaceView v = last.get();
    Instant at = endedAt(v);
    if (v.state() == WorkspaceState.FAILED) {
      return new Story("This workspace could not be started", v.reason() == null ? "" : v.reason(), at);
    }
    if (v.state() != WorkspaceState.RELEASED && v.state() != WorkspaceState.RELEASING) {
      return new Story("This workspace is not ready", "It is " + v.state().name().toLowerCase() + ".", null);
    }
    String reason = v.reason() == null ? "" : v.reason();
    if (reason.equals("idle")) {
      return new Story("This workspace was reclaimed",
          "It was idle for " + human(Duration.ofSeconds(v.idleTimeoutSeconds())) + " and went back to the pool.", at);
    }
    if (reason.startsWith("max lifetime")) {
      return new Story("This workspace reached its maximum lifetime",
          "It ran for " + human(Duration.ofMillis(Math.max(0, v.expiresAtMillis() - v.allocatedAtMillis())))
              + ", the longest a workspace may run.", at);
    }
    if (reason.startsWith("released by")) {
      return new Story("This workspace was released", "It was " + reason + ".", at);
    }
    return new Story("This workspace is no longer running", reason, at);
  }

  /** When teardown started (its step), or when the run says it ended. */
  private static Instant endedAt(WorkspaceView v) {
    long at = 0;
    for (ProgressStep s : v.steps() == null ? java.util.List.<ProgressStep>of() : v.steps()) {
      if (s.step().equals("teardown") || s.step().equals("rollback")) {
        at = s.atMillis();
        break;
      }
    }
    return at > 0 ? Instant.ofEpochMilli(at) : null;
  }

  static String human(Duration d) {
    long s = d.toSeconds();
    if (s < 120) {
      return s + " s";
    }
    if (s < 2 * 3600) {
      return (s / 60) + " min";
    }
    return (s / 3600) + " h" + (s % 3600 >= 60 ? " " + (s % 3600) / 60 + " min" : "");
  }

  static String sentence(Story story) {
    return story.headline() + (story.at() == null ? "" : " at " + CLOCK.format(story.at())) + ". " + story.detail();
  }

  static String escape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }
}
