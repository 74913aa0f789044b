package io.berth.activities.fleet.local;

import io.berth.workflows.model.Slot;
import io.temporal.failure.ApplicationFailure;
import java.util.regex.Pattern;

/** What the local fleet accepts from workflows: host ids, slots, tokens; and the failures it answers with. */
final class FleetInput {
  private static final Pattern HOST_ID = Pattern.compile("h-[0-9]{1,18}");
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{16,256}");

  private FleetInput() {}

  static boolean isHostId(String s) {
    return s != null && HOST_ID.matcher(s).matches();
  }

  static void requireHostId(String hostId) {
    if (!isHostId(hostId)) {
      throw invalid("invalid host id");
    }
  }

  static void requireSlot(Slot slot) {
    if (slot == null) {
      throw invalid("no slot");
    }
    requireHostId(slot.hostId());
    if (slot.index() < 0 || slot.index() >= 64 || !Slot.idOf(slot.hostId(), slot.index()).equals(slot.slotId())) {
      throw invalid("invalid slot");
    }
  }

  static void requireToken(String heartbeatToken) {
    if (heartbeatToken == null || !TOKEN.matcher(heartbeatToken).matches()) {
      throw invalid("malformed heartbeat token");
    }
  }

  static void requireLive(HostState h, String hostId) {
    if (h == null || h.terminating()) {
      throw hostGone(hostId);
    }
  }

  static ApplicationFailure invalid(String message) {
    return ApplicationFailure.newNonRetryableFailure(message, "InvalidInput");
  }

  static ApplicationFailure hostGone(String hostId) {
    return ApplicationFailure.newNonRetryableFailure("host " + hostId + " is gone", "HostGone");
  }
}
