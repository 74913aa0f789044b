package io.berth.stack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class DemandDayTest {
  @Test
  void theSameSeedGivesTheSameDay() {
    assertEquals(DemandDay.generate(7), DemandDay.generate(7));
    assertTrue(!DemandDay.generate(7).equals(DemandDay.generate(8)));
  }

  @Test
  void theDayHasItsShapeAndItsBurst() {
    DemandDay day = DemandDay.generate(18);
    int[] perHour = day.perHour();
    int burstIndex = DemandDay.BURST_HOUR - day.firstHour();
    assertEquals(Arrays.stream(DemandDay.PER_HOUR).sum() + DemandDay.BURST_SIZE, day.arrivals().size());
    assertEquals(DemandDay.PER_HOUR[burstIndex] + DemandDay.BURST_SIZE, perHour[burstIndex]);
    int ramp = perHour[9 - day.firstHour()];
    int lunch = perHour[12 - day.firstHour()];
    int evening = perHour[20 - day.firstHour()];
    assertTrue(ramp > lunch && lunch > evening && evening > 0, Arrays.toString(perHour));
    long inBurst = day.arrivals().stream().filter(a -> a.minute() >= DemandDay.BURST_HOUR * 60
        && a.minute() < DemandDay.BURST_HOUR * 60 + DemandDay.BURST_MINUTES).count();
    assertTrue(inBurst >= DemandDay.BURST_SIZE, "burst arrivals " + inBurst);
  }

  @Test
  void arrivalsAreOrderedInsideTheDayAndSessionsBounded() {
    DemandDay day = DemandDay.generate(3);
    int last = -1;
    for (DemandDay.Arrival a : day.arrivals()) {
      assertTrue(a.minute() >= last);
      assertTrue(a.minute() >= day.startMinute() && a.minute() < day.endMinute());
      assertTrue(a.sessionMinutes() >= DemandDay.SESSION_MIN && a.sessionMinutes() <= DemandDay.SESSION_MAX);
      last = a.minute();
    }
    assertEquals(day.arrivals().stream().filter(a -> a.minute() == 600).count(), day.at(600).size());
  }
}
