package io.berth.workflows;

public final class TaskQueues {
  public static final String BERTH = "berth";

  private TaskQueues() {}
}
