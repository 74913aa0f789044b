package io.berth.api.workspaces;

import com.google.protobuf.Timestamp;
import io.berth.workflows.HistorySteps;
import io.micronaut.serde.annotation.Serdeable;
import io.temporal.api.failure.v1.Failure;
import io.temporal.api.history.v1.HistoryEvent;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * A workflow history as admins see it: what happened and when, never a payload (inputs and results
 * are left out, so nothing a workflow carries can leak through this view).
 */
public final class HistoryEvents {
  private HistoryEvents() {}

  @Serdeable
  public record Event(long eventId, String time, String type, String details) {}

  static List<Event> render(List<HistoryEvent> events) {
    return events.stream().map(HistoryEvents::event).toList();
  }

  /**
   * A local activity's marker reads as the step it records: type {@code LocalActivity}, or
   * {@code LocalActivityFailed} (a failure as visible as a regular activity's), details its
   * activity type and failure.
   */
  static Event event(HistoryEvent e) {
    String time = time(e.getEventTime());
    return HistorySteps.localActivityType(e).map(activity -> {
      var m = e.getMarkerRecordedEventAttributes();
      return m.hasFailure()
          ? new Event(e.getEventId(), time, "LocalActivityFailed", activity + ": " + message(m.getFailure()))
          : new Event(e.getEventId(), time, "LocalActivity", activity);
    }).orElseGet(() -> new Event(e.getEventId(), time, type(e), details(e)));
  }

  /** EVENT_TYPE_ACTIVITY_TASK_SCHEDULED becomes ActivityTaskScheduled, as the Temporal UI shows it. */
  static String type(HistoryEvent e) {
    String raw = e.getEventType().name().replaceFirst("^EVENT_TYPE_", "");
    StringBuilder out = new StringBuilder(raw.length());
    for (String word : raw.split("_")) {
      if (!word.isEmpty()) {
        out.append(word.charAt(0)).append(word.substring(1).toLowerCase(Locale.ROOT));
      }
    }
    return out.toString();
  }

  private static String details(HistoryEvent e) {
    return switch (e.getEventType()) {
      case EVENT_TYPE_WORKFLOW_EXECUTION_STARTED -> e.getWorkflowExecutionStartedEventAttributes().getWorkflowType()
          .getName();
      case EVENT_TYPE_ACTIVITY_TASK_SCHEDULED -> e.getActivityTaskScheduledEventAttributes().getActivityType().getName();
      case EVENT_TYPE_ACTIVITY_TASK_FAILED -> message(e.getActivityTaskFailedEventAttributes().getFailure());
      case EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT -> message(e.getActivityTaskTimedOutEventAttributes().getFailure());
      case EVENT_TYPE_WORKFLOW_TASK_FAILED -> message(e.getWorkflowTaskFailedEventAttributes().getFailure());
      case EVENT_TYPE_WORKFLOW_EXECUTION_FAILED -> message(e.getWorkflowExecutionFailedEventAttributes().getFailure());
      case EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED -> e.getWorkflowExecutionSignaledEventAttributes().getSignalName();
      case EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED -> {
        var a = e.getSignalExternalWorkflowExecutionInitiatedEventAttributes();
        yield a.getSignalName() + " -> " + a.getWorkflowExecution().getWorkflowId();
      }
      case EVENT_TYPE_TIMER_STARTED -> e.getTimerStartedEventAttributes().getTimerId();
      case EVENT_TYPE_TIMER_FIRED -> e.getTimerFiredEventAttributes().getTimerId();
      case EVENT_TYPE_TIMER_CANCELED -> e.getTimerCanceledEventAttributes().getTimerId();
      case EVENT_TYPE_MARKER_RECORDED -> e.getMarkerRecordedEventAttributes().getMarkerName();
      case EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED -> e.getWorkflowExecutionUpdateAcceptedEventAttributes()
          .getAcceptedRequest().getInput().getName();
      case EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED -> {
        var outcome = e.getWorkflowExecutionUpdateCompletedEventAttributes().getOutcome();
        yield outcome.hasFailure() ? message(outcome.getFailure()) : null;
      }
      case EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED -> e.getWorkflowExecutionTerminatedEventAttributes().getReason();
      case EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW -> "new run " + e
          .getWorkflowExecutionContinuedAsNewEventAttributes().getNewExecutionRunId();
      default -> null;
    };
  }

  /** The failure's own message and its causes' (no stack traces, no details payloads). */
  private static String message(Failure f) {
    StringBuilder out = new StringBuilder(f.getMessage());
    for (Failure c = f.hasCause() ? f.getCause() : null; c != null; c = c.hasCause() ? c.getCause() : null) {
      if (!c.getMessage().isEmpty()) {
        out.append(": ").append(c.getMessage());
      }
    }
    return out.toString();
  }

  private static String time(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos()).toString();
  }
}
