package io.berth.stack.bench;

import io.berth.workflows.HistorySteps;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where an allocation's time goes on Temporal's side, from the workflow's own history (the
 * server's event times): activity bodies, activity tasks waiting for a poller, workflow tasks
 * waiting and running, from the first event until the workflow task that follows StoreSession.
 */
record HistoryBreakdown(double total, double activityRun, double activityQueue, double workflowTaskQueue,
                        double workflowTaskRun, int workflowTasks) {
  static HistoryBreakdown of(List<HistoryEvent> events) {
    Map<Long, Long> scheduledAt = new HashMap<>();
    Map<Long, Long> startedAt = new HashMap<>();
    Map<Long, String> typeOf = new HashMap<>();
    long first = millis(events.get(0));
    double actRun = 0;
    double actQueue = 0;
    double wfQueue = 0;
    double wfRun = 0;
    int tasks = 0;
    boolean sessionDone = false;
    for (HistoryEvent e : events) {
      long t = millis(e);
      EventType type = e.getEventType();
      switch (type) {
        case EVENT_TYPE_ACTIVITY_TASK_SCHEDULED -> {
          scheduledAt.put(e.getEventId(), t);
          typeOf.put(e.getEventId(), e.getActivityTaskScheduledEventAttributes().getActivityType().getName());
        }
        case EVENT_TYPE_ACTIVITY_TASK_STARTED -> {
          long sched = e.getActivityTaskStartedEventAttributes().getScheduledEventId();
          startedAt.put(e.getEventId(), t);
          actQueue += t - scheduledAt.getOrDefault(sched, t);
        }
        case EVENT_TYPE_ACTIVITY_TASK_COMPLETED -> {
          var a = e.getActivityTaskCompletedEventAttributes();
          actRun += t - startedAt.getOrDefault(a.getStartedEventId(), t);
          if ("StoreSession".equals(typeOf.get(a.getScheduledEventId()))) {
            sessionDone = true;
          }
        }
        case EVENT_TYPE_WORKFLOW_TASK_SCHEDULED -> scheduledAt.put(e.getEventId(), t);
        case EVENT_TYPE_WORKFLOW_TASK_STARTED -> {
          long sched = e.getWorkflowTaskStartedEventAttributes().getScheduledEventId();
          startedAt.put(e.getEventId(), t);
          wfQueue += t - scheduledAt.getOrDefault(sched, t);
        }
        case EVENT_TYPE_WORKFLOW_TASK_COMPLETED -> {
          wfRun += t - startedAt.getOrDefault(e.getWorkflowTaskCompletedEventAttributes().getStartedEventId(), t);
          tasks++;
          if (sessionDone) {
            return new HistoryBreakdown(t - first, actRun, actQueue, wfQueue, wfRun, tasks);
          }
        }
        case EVENT_TYPE_MARKER_RECORDED -> {
          // A local StoreSession is recorded with the workflow task that ran it: READY is that task.
          if (HistorySteps.localActivityType(e).filter("StoreSession"::equals).isPresent()) {
            return new HistoryBreakdown(t - first, actRun, actQueue, wfQueue, wfRun, tasks);
          }
        }
        default -> { }
      }
    }
    return null;
  }

  private static long millis(HistoryEvent e) {
    return e.getEventTime().getSeconds() * 1000 + e.getEventTime().getNanos() / 1_000_000;
  }
}
