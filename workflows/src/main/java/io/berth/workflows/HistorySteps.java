package io.berth.workflows;

import io.temporal.api.common.v1.Payloads;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.common.converter.DefaultDataConverter;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The steps a workflow ran, read from its history: regular activities (ActivityTaskScheduled) and
 * local ones (a LocalActivity marker, recorded once the call has ended), by activity type.
 * Operators' history view, tests and the benchmark all read steps this way, so a step that moves
 * between the two kinds stays visible.
 */
public final class HistorySteps {
  static final String LOCAL_ACTIVITY_MARKER = "LocalActivity";
  /** Notifications of the capacity controller (its own, or its template's), not steps of the saga or the teardown. */
  static final Set<String> POKES = Set.of("PokeCapacity", "PokeCapacityOf");
  /** The session step with the controller's poke after it ({@link SessionThenPoke}): the session step. */
  static final String SESSION_THEN_POKE = "StoreSessionThenPoke";
  static final String SESSION = "StoreSession";

  private HistorySteps() {}

  /** The steps' activity types in history order, regular and local alike (controller pokes left out). */
  public static List<String> activityTypes(List<HistoryEvent> events) {
    return events.stream().map(HistorySteps::activityType).flatMap(Optional::stream)
        .filter(type -> !POKES.contains(type)).toList();
  }

  /** The activity type an event starts (regular) or records (local), if it is one of those. */
  public static Optional<String> activityType(HistoryEvent e) {
    if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      return Optional.of(e.getActivityTaskScheduledEventAttributes().getActivityType().getName());
    }
    return localActivityType(e);
  }

  /** The type of a local activity's marker event; empty for any other event. */
  public static Optional<String> localActivityType(HistoryEvent e) {
    if (e.getEventType() != EventType.EVENT_TYPE_MARKER_RECORDED
        || !LOCAL_ACTIVITY_MARKER.equals(e.getMarkerRecordedEventAttributes().getMarkerName())) {
      return Optional.empty();
    }
    Payloads type = e.getMarkerRecordedEventAttributes().getDetailsMap().get("type");
    if (type == null) {
      return Optional.empty();
    }
    return Optional.ofNullable(DefaultDataConverter.STANDARD_INSTANCE
        .fromPayloads(0, Optional.of(type), String.class, String.class)).map(HistorySteps::stepOf);
  }

  /** The step an activity type stands for: its own name, but the session step for {@value #SESSION_THEN_POKE}. */
  public static String stepOf(String activityType) {
    return SESSION_THEN_POKE.equals(activityType) ? SESSION : activityType;
  }
}
