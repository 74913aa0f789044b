package io.berth.workflows.capacity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** A schedule's cron as hours of the week. 2026-03-02 is a Monday. */
class WeekHoursTest {
  private static final ZoneId PARIS = ZoneId.of("Europe/Paris");

  private static long utc(String iso) {
    return Instant.parse(iso).toEpochMilli();
  }

  @ParameterizedTest(name = "{0} at {1}: {2}")
  @CsvSource(delimiter = '|', value = {
      "* 8-17 * * 1-5 | 2026-03-02T08:00:00Z | true",   // Monday, first hour
      "* 8-17 * * 1-5 | 2026-03-02T17:59:59Z | true",   // Monday, last second of the last hour
      "* 8-17 * * 1-5 | 2026-03-02T18:00:00Z | false",
      "* 8-17 * * 1-5 | 2026-03-02T07:59:59Z | false",
      "* 8-17 * * 1-5 | 2026-03-07T10:00:00Z | false",  // Saturday
      "* 9 * * 0      | 2026-03-08T09:30:00Z | true",   // Sunday as 0
      "* 9 * * 7      | 2026-03-08T09:30:00Z | true",   // Sunday as 7
      "* */6 * * *    | 2026-03-04T12:10:00Z | true",   // every sixth hour
      "* */6 * * *    | 2026-03-04T13:10:00Z | false",
      "* 1,3,22-23 * * 6 | 2026-03-07T22:00:00Z | true", // lists and ranges
      "* 1,3,22-23 * * 6 | 2026-03-07T02:00:00Z | false",
      "* 20/2 * * 1   | 2026-03-02T22:00:00Z | true",   // a start with a step: 20, 22
      "* 20/2 * * 1   | 2026-03-02T21:00:00Z | false",
      "* * * * *      | 2026-03-05T03:00:00Z | true"})
  void cronForms(String cron, String at, boolean covered) {
    assertEquals(covered, WeekHours.parse(cron).covers(utc(at), ZoneOffset.UTC));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "* 8-17 * *         | must have 5 fields",
      "0 8-17 * * 1-5     | minute, day of month and month must be *",
      "* 8-17 1 * 1-5     | minute, day of month and month must be *",
      "* 8-17 * 6 1-5     | minute, day of month and month must be *",
      "* 24 * * *         | hour '24' is not a number from 0 to 23",
      "* 8 * * 8          | day of week '8' is not a number from 0 to 7",
      "* 18-8 * * *       | hour range 18-8 runs backwards",
      "* eight * * *      | hour 'eight' is not a number",
      "* */0 * * *        | hour '0' is not a number from 1 to 23"})
  void errorsSayWhatIsWrong(String cron, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WeekHours.parse(cron));
    assertTrue(e.getMessage().contains(message), e::getMessage);
    assertTrue(e.getMessage().contains(cron.trim()), () -> "names the cron: " + e.getMessage());
  }

  @Test
  void aMissingCronIsAnError() {
    assertThrows(IllegalArgumentException.class, () -> WeekHours.parse(null));
  }

  /** Paris moves from CET (UTC+1) to CEST (UTC+2) on 2026-03-29 at 02:00: the hours stay local. */
  @Test
  void coversFollowsTheLocalHourAcrossADaylightSavingChange() {
    WeekHours eight = WeekHours.parse("* 8 * * *");
    assertTrue(eight.covers(utc("2026-03-28T07:30:00Z"), PARIS), "Saturday 08:30 CET");
    assertFalse(eight.covers(utc("2026-03-28T06:30:00Z"), PARIS), "Saturday 07:30 CET");
    assertTrue(eight.covers(utc("2026-03-29T06:30:00Z"), PARIS), "Sunday 08:30 CEST");
    assertFalse(eight.covers(utc("2026-03-29T07:30:00Z"), PARIS), "Sunday 09:30 CEST");
    // The skipped hour: 02:00-03:00 does not exist on that Sunday, 03:00 comes right after 01:59.
    WeekHours two = WeekHours.parse("* 2 * * 0");
    assertFalse(two.covers(utc("2026-03-29T01:00:00Z"), PARIS), "03:00 CEST, not 02:00");
    assertTrue(WeekHours.parse("* 3 * * 0").covers(utc("2026-03-29T01:00:00Z"), PARIS));
  }

  @Test
  void firstOverlapNamesTheFirstSharedHourOfTheWeek() {
    WeekHours workday = WeekHours.parse("* 8-17 * * 1-5");
    assertEquals("Mon 17:00", workday.firstOverlap(WeekHours.parse("* 17-21 * * 1-5")));
    assertEquals("Fri 08:00", workday.firstOverlap(WeekHours.parse("* 0-9 * * 5-6")));
    assertNull(workday.firstOverlap(WeekHours.parse("* 18-21 * * 1-5")));
    assertNull(workday.firstOverlap(WeekHours.parse("* * * * 0,6")));
    assertEquals("Sun 00:00", WeekHours.parse("* * * * 7").firstOverlap(WeekHours.parse("* 0 * * 0")));
  }
}
