package io.berth.workflows;

import io.berth.workflows.model.DnsRecord;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * Test-only: one cloud step of Berth's workflows with the very activity options they use
 * ({@link ActivityStubs}, package-private, hence this package): {@code converge} false is a saga
 * step (a few attempts, then the saga compensates), true a teardown step (retried until it works).
 */
@WorkflowInterface
public interface CloudStepWorkflow {
  @WorkflowMethod
  void run(String step, int desired, DnsRecord record, boolean converge);

  class Impl implements CloudStepWorkflow {
    @Override
    public void run(String step, int desired, DnsRecord record, boolean converge) {
      switch (step) {
        case "scale" -> ActivityStubs.fleet(converge).setDesiredCapacity(desired);
        case "record" -> ActivityStubs.dns(converge).upsertRecord(record);
        default -> throw new IllegalArgumentException(step);
      }
    }
  }
}
