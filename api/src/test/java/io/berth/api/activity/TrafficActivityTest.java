package io.berth.api.activity;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which requests through the gateway count as a person's activity (GatewayApiTest shows it end to end). */
class TrafficActivityTest {

  @Test
  void aWriteAWebSocketOrAScriptCountsABackgroundFetchDoesNot() {
    assertTrue(TrafficActivity.counts("POST", "cors"), "a write from the page");
    assertTrue(TrafficActivity.counts("GET", "websocket"), "a browser's WebSocket opening");
    assertTrue(TrafficActivity.counts("GET", null), "curl, a script");
    assertFalse(TrafficActivity.counts("GET", "cors"), "a page polling");
    assertFalse(TrafficActivity.counts("HEAD", "no-cors"));
  }
}
