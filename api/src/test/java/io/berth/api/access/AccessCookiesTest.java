package io.berth.api.access;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class AccessCookiesTest {

  @Test
  void everyWorkspaceCookieOfAHeaderIsReadAndOnlyThose() {
    assertEquals(List.of("a", "b"), AccessCookies.values("x=1; berth_ws=a;berth_ws=\"b\"; berth_wsx=c"));
    assertEquals(List.of(), AccessCookies.values(null));
    assertEquals(4, AccessCookies.values("berth_ws=1; ".repeat(10)).size());
  }
}
