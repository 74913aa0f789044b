package io.berth.workflows.activities;

import io.berth.workflows.model.DnsRecord;
import io.temporal.activity.ActivityInterface;

/** Route 53 (UPSERT/DELETE of an A record); a no-op on the local provider or with a wildcard record. */
@ActivityInterface
public interface DnsActivities {
  void upsertRecord(DnsRecord record);

  /** Undo of {@link #upsertRecord}; tolerates a record that is not there. */
  void deleteRecord(DnsRecord record);
}
