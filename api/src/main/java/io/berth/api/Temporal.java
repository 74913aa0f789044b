package io.berth.api;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.client.WorkflowNotFoundException;

/** How a Temporal client failure reads from the API's side. */
public final class Temporal {
  private Temporal() {}

  /** No such workflow, or the run the call was aimed at has just closed (test-server continue-as-new race). */
  public static boolean notFound(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof WorkflowNotFoundException) {
        return true;
      }
      if (t instanceof StatusRuntimeException s && s.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return true;
      }
    }
    return false;
  }

  /** The service itself did not answer (down, overloaded, deadline passed). */
  public static boolean unreachable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof StatusRuntimeException s) {
        Status.Code c = s.getStatus().getCode();
        return c == Status.Code.UNAVAILABLE || c == Status.Code.DEADLINE_EXCEEDED
            || c == Status.Code.RESOURCE_EXHAUSTED || c == Status.Code.CANCELLED;
      }
    }
    return false;
  }
}
