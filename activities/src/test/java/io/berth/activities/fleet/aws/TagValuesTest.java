package io.berth.activities.fleet.aws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class TagValuesTest {
  /** What EC2 accepts as a tag value. */
  private static final Pattern AWS_TAG_VALUE = Pattern.compile("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]{0,256}");

  @Test
  void everyPrintableAsciiCharacterSurvivesTheRoundTripInsideTheTagAlphabet() {
    StringBuilder all = new StringBuilder();
    for (char c = ' '; c <= '~'; c++) {
      all.append(c);
    }
    String encoded = TagValues.encode(all.toString());
    assertTrue(AWS_TAG_VALUE.matcher(encoded).matches(), encoded);
    assertEquals(all.toString(), TagValues.decode(encoded));
  }

  @Test
  void readableIdsStayReadableAndTheSentinelIsNeverAUser() {
    assertEquals("alice@example.com", TagValues.encode("alice@example.com"));
    assertEquals("a=3Db", TagValues.encode("a=b"));
    assertEquals("UNASSIGNED", TagValues.encode(null));
    assertNull(TagValues.decode("UNASSIGNED"));
    assertNull(TagValues.decode(null));
    assertEquals("UNASSIGNED", TagValues.decode(TagValues.encode("UNASSIGNED")));
  }

  @Test
  void foreignValuesStillNameAnOwnerAndOverlongEncodingsAreRefused() {
    assertEquals("=zz", TagValues.decode("=zz"));
    assertEquals("Zoë", TagValues.decode("Zoë"));
    assertNull(TagValues.encode("#".repeat(86)));
    assertEquals(255, TagValues.encode("#".repeat(85)).length());
  }
}
