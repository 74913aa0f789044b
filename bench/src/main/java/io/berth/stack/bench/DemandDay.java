package io.berth.stack.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * A generated working day of arrivals for {@code ./berth bench demand}: night near zero, a
 * morning ramp (8–10), a lunch dip (12–13), the afternoon, an evening tail (18–21) and a burst
 * (many arrivals within two minutes at 15:00). Seeded, so every run and every strategy replays the
 * same day.
 */
record DemandDay(int firstHour, int endHour, List<Arrival> arrivals) {
  /** Arrivals per hour from 06:00 to 21:00 (index 0 = 06:00); 152 in all. */
  static final int[] PER_HOUR = {2, 6, 14, 22, 18, 14, 5, 7, 14, 12, 12, 9, 7, 5, 3, 2};
  static final int FIRST_HOUR = 6;
  static final int BURST_HOUR = 15;
  static final int BURST_SIZE = 15;
  static final int BURST_MINUTES = 2;
  static final int SESSION_MIN = 20;
  static final int SESSION_MAX = 90;

  /** One user: arrives {@code minute} minutes after midnight and stays {@code sessionMinutes}. */
  record Arrival(int minute, int sessionMinutes) {
    int endMinute() {
      return minute + sessionMinutes;
    }
  }

  DemandDay {
    arrivals = List.copyOf(arrivals);
  }

  static DemandDay generate(long seed) {
    Random random = new Random(seed);
    List<Arrival> out = new ArrayList<>();
    for (int i = 0; i < PER_HOUR.length; i++) {
      int hour = FIRST_HOUR + i;
      for (int k = 0; k < PER_HOUR[i]; k++) {
        out.add(new Arrival(hour * 60 + random.nextInt(60), session(random)));
      }
    }
    for (int k = 0; k < BURST_SIZE; k++) {
      out.add(new Arrival(BURST_HOUR * 60 + random.nextInt(BURST_MINUTES), session(random)));
    }
    out.sort(Comparator.comparingInt(Arrival::minute));
    return new DemandDay(FIRST_HOUR, FIRST_HOUR + PER_HOUR.length, out);
  }

  private static int session(Random random) {
    return SESSION_MIN + random.nextInt(SESSION_MAX - SESSION_MIN + 1);
  }

  int startMinute() {
    return firstHour * 60;
  }

  int endMinute() {
    return endHour * 60;
  }

  List<Arrival> at(int minute) {
    return arrivals.stream().filter(a -> a.minute() == minute).toList();
  }

  /** Arrivals in each hour from {@link #firstHour}, for the report. */
  int[] perHour() {
    int[] n = new int[endHour - firstHour];
    for (Arrival a : arrivals) {
      n[a.minute() / 60 - firstHour]++;
    }
    return n;
  }
}
