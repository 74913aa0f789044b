package io.berth.activities.dns;

import io.berth.workflows.activities.DnsActivities;
import io.berth.workflows.model.DnsRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DNS for the local provider, or for a domain with a wildcard record: every hostname already
 * resolves to the gateway (e.g. {@code *.localhost}), so there is nothing to write.
 */
public final class NoDns implements DnsActivities {
  private static final Logger log = LoggerFactory.getLogger(NoDns.class);

  @Override
  public void upsertRecord(DnsRecord record) {
    log.debug("no DNS record needed for {}", record == null ? null : record.hostname());
  }

  @Override
  public void deleteRecord(DnsRecord record) {
    log.debug("no DNS record to delete for {}", record == null ? null : record.hostname());
  }
}
