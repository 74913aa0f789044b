package io.berth.workflows.capacity;

import static io.berth.workflows.capacity.PlannerWorld.FREE;
import static io.berth.workflows.capacity.PlannerWorld.NOW;
import static io.berth.workflows.capacity.PlannerWorld.settings;
import static io.berth.workflows.capacity.PlannerWorld.world;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.berth.workflows.capacity.PlannerWorld.Pass;
import io.berth.workflows.model.CapacityParams;
import io.berth.workflows.model.DemandRule;
import io.berth.workflows.model.ScalingDecision;
import io.berth.workflows.model.SpareRules;
import io.berth.workflows.model.SpareSchedule;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The planner on its own: a fleet and a memory in, the actions of one pass out. No Temporal. */
class CapacityPlannerTest {
  private static final Duration A_MINUTE = Duration.ofSeconds(61);
  /** A schedule that covers every hour, one that covers none of NOW's (1970-01-12 13:46 UTC, a Monday). */
  private static final SpareSchedule ALWAYS = new SpareSchedule("always", "* * * * *", 4);
  private static final SpareSchedule SUNDAYS = new SpareSchedule("sundays", "* * * * 0", 4);
  private static final DemandRule FIVE_MINUTES = new DemandRule(Duration.ofMinutes(5), 6);

  private static SpareRules rules(int base, DemandRule demand, SpareSchedule... schedules) {
    return new SpareRules(base, "UTC", List.of(schedules), demand);
  }

  private static Arguments row(String name, PlannerWorld w, CapacityParams settings, String... actions) {
    return Arguments.of(name, w, settings, List.of(actions));
  }

  static Stream<Arguments> passes() {
    return Stream.of(
        // Spares
        row("two spares kept: nothing to do",
            world().host("h-1").host("h-2").pooled("h-1/0", "h-2/0"), settings(2, 0, 6)),
        row("a newcomer that passes its probe joins the pool",
            world().host("h-1").host("h-2").pooled("h-1/0"), settings(2, 0, 6),
            "add spares [h-2/0]"),
        row("dead and gone spares are replaced within the target, not launched on top of it",
            world().host("h-1").host("h-2").pooled("h-1/0", "h-2/0", "h-9/0").dead("h-1/0"), settings(2, 0, 6),
            "drop spares [h-9/0, h-1/0]", "recycle h-1/0"),
        row("a spare failing its probe leaves the pool for a fresh process",
            world().host("h-1").host("h-2").pooled("h-1/0", "h-2/0").unresponsive("h-1/0"), settings(2, 0, 6),
            "replace spares [h-1/0]"),

        // Scale-out
        row("short of spares: one ordinary step",
            world().host("h-1").pooled("h-1/0"), settings(4, 0, 6),
            "scale out 1→3"),
        row("the step never passes the target",
            world().host("h-1").pooled("h-1/0"), settings(2, 0, 6),
            "scale out 1→2"),
        row("while hosts launch, the cooldown holds the next step",
            world().host("h-1").pending("h-2").pooled("h-1/0").scaledOutAgo(Duration.ofSeconds(60)), settings(6, 0, 10)),
        row("once the cooldown has passed, the next step goes even while hosts launch",
            world().host("h-1").pending("h-2").pooled("h-1/0").scaledOutAgo(Duration.ofSeconds(181)),
            settings(6, 0, 10),
            "scale out 2→4"),
        row("waiters scale out by what they need at once, cooldown or not, and the spare wakes the first",
            world().host("h-1").pending("h-2").pooled("h-1/0").scaledOutAgo(Duration.ofSeconds(1)).waiting(5),
            settings(2, 0, 20),
            "scale out 2→7", "wake [w0]"),
        row("what waits is capped at the largest step",
            world().host("h-1", "ada").waiting(30), settings(0, 0, 50),
            "scale out 1→11"),
        row("never past the maximum",
            world().host("h-1", "ada").waiting(30), settings(0, 0, 5),
            "scale out 1→5"),
        row("the minimum holds hosts nobody needs",
            world().host("h-1").host("h-2").pooled("h-1/0", "h-2/0").wantedFewerFor(A_MINUTE), settings(0, 2, 6)),

        // Scale-in
        row("fewer hosts wanted: nothing before the stable window",
            world().host("h-1").host("h-2").host("h-3").host("h-4").pooled("h-1/0", "h-2/0", "h-3/0", "h-4/0"),
            settings(2, 0, 6)),
        row("fewer hosts wanted for the stable window: the newest empty hosts go",
            world().host("h-1").host("h-2").host("h-3").host("h-4").pooled("h-1/0", "h-2/0", "h-3/0", "h-4/0")
                .wantedFewerFor(A_MINUTE), settings(2, 0, 6),
            "scale in 4→2 from [h-4, h-3, h-2, h-1]"),
        row("never an owned, a protected or a claimed host: only the others are candidates",
            world().host("h-1", "ada").host("h-2").protect("h-2").claim("h-2/0", "r-bo", "bo").host("h-3")
                .host("h-4").pooled("h-3/0", "h-4/0").wantedFewerFor(A_MINUTE), settings(0, 0, 6),
            // The claimed slot is offered to the pool, which refuses it (the claim marks it).
            "add spares [h-2/0]", "scale in 4→1 from [h-4, h-3]"),
        row("scale to zero: no one, no spares, no minimum",
            world().host("h-1").pooled("h-1/0").wantedFewerFor(A_MINUTE), settings(0, 0, 6),
            "scale in 1→0 from [h-1]"),

        // Quarantine
        row("a quarantined slot takes its host down, and is forgotten",
            world().host("h-1").host("h-2").pooled("h-1/0").quarantined("h-2/0"), settings(1, 0, 6),
            "quarantine h-2", "clear quarantine [h-2/0]"),
        row("a quarantined slot on an owned host leaves the host alone",
            world().host("h-1", FREE, "ada").quarantined("h-1/0"), settings(0, 0, 6)),
        row("the first failed probe does not quarantine a host",
            world().host("h-1").unresponsive("h-1/0"), settings(0, 1, 6)),
        row("a host failing its probes the third time is quarantined",
            world().host("h-1").unresponsive("h-1/0").probeFailed("h-1", 2, A_MINUTE), settings(0, 1, 6),
            "quarantine h-1"),
        row("an owned host failing its probes is never terminated",
            world().host("h-1", "ada", FREE).unresponsive("h-1/1").probeFailed("h-1", 2, A_MINUTE),
            settings(0, 1, 6)),

        // Owners, protection and claims
        row("an owner tag the read model does not know: resync its owner",
            world().host("h-1", "gone").noSession("gone").host("h-2").pooled("h-2/0"), settings(1, 0, 6),
            "resync gone on h-1/0"),
        row("protection without an owner or a claim is cleared",
            world().host("h-1").protect("h-1").pooled("h-1/0"), settings(1, 0, 6),
            "unprotect h-1"),
        row("an owned host without protection gets an interval for the saga's own step",
            world().host("h-1", "ada").unprotect("h-1"), settings(0, 1, 6)),
        row("an owned host still without protection an interval later is protected",
            world().host("h-1", "ada").unprotect("h-1").unprotectedFor("h-1", Duration.ofSeconds(10)),
            settings(0, 1, 6),
            "protect h-1"),
        row("a slot a lost run left tagged is given back",
            world().host("h-1", "dan").host("h-2", "dan").sessionOn("dan", "h-1/0"), settings(0, 2, 6),
            "give back h-2/0 left behind by dan"),
        row("a claim still without an owner an interval later is asked about",
            world().host("h-1").protect("h-1").claim("h-1/0", "r-ada", "ada")
                .claimSeenFor("r-ada", Duration.ofSeconds(10)), settings(0, 1, 6),
            "undo dead claims among [r-ada]", "add spares [h-1/0]"),

        // Waiters
        row("waiters are woken one per spare, first come first served",
            world().host("h-1").host("h-2").pooled("h-1/0", "h-2/0").waiting(3), settings(2, 0, 20),
            "scale out 2→5", "wake [w0, w1]"),
        row("at the maximum, with nothing coming up and no queue, waiters are turned away",
            world().host("h-1", "ada").host("h-2", "bo").waiting(2), settings(0, 0, 2),
            "deny [w0, w1]"),
        row("with the queue on, they wait",
            world().host("h-1", "ada").host("h-2", "bo").waiting(2), settings(0, 0, 2, true)),
        row("while a host still launches, they wait",
            world().host("h-1", "ada").pending("h-2").waiting(2), settings(0, 0, 2)),

        // Spare rules
        row("a schedule that covers the hour sizes for its count",
            world().host("h-1").pooled("h-1/0"), settings(0, 20, rules(1, null, ALWAYS)),
            "scale out 1→3"),
        row("outside its schedules, the base",
            world().host("h-1").pooled("h-1/0"), settings(0, 20, rules(1, null, SUNDAYS))),
        row("a schedule's end brings the base back, scale-in after the stable window",
            world().host("h-1").host("h-2").host("h-3").host("h-4").pooled("h-1/0", "h-2/0", "h-3/0", "h-4/0")
                .wantedFewerFor(A_MINUTE), settings(0, 20, rules(1, null, SUNDAYS)),
            "scale in 4→1 from [h-4, h-3, h-2, h-1]"),
        row("misses of the last 5 minutes raise the target, one spare each",
            world().host("h-1").pooled("h-1/0").missed(3, Duration.ofMinutes(1)),
            settings(0, 20, rules(1, FIVE_MINUTES)),
            "scale out 1→3"),
        row("misses older than 5 minutes do not",
            world().host("h-1").pooled("h-1/0").missed(3, Duration.ofMinutes(6)),
            settings(0, 20, rules(1, FIVE_MINUTES))),
        row("claims since an earlier pass raise the target: 3 in 5 minutes over a 5-minute horizon",
            world().host("h-1").pooled("h-1/0").claimsTotalAgo(10, Duration.ofMinutes(5)).claimsTotal(13),
            settings(0, 20, rules(1, FIVE_MINUTES)),
            "scale out 1→3"),
        row("the demand term stops at its max",
            world().host("h-1").pooled("h-1/0").missed(30, Duration.ofMinutes(1)),
            settings(0, 20, rules(1, FIVE_MINUTES)).withRules(rules(1, new DemandRule(Duration.ofMinutes(5), 2))),
            "scale out 1→2"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("passes")
  void onePass(String name, PlannerWorld w, CapacityParams settings, List<String> expected) {
    Pass pass = w.pass(settings);
    assertEquals(expected, pass.actions());
  }

  @Test
  void theTargetIsRecordedWithItsRuleWhenItChangesAndSizingDecisionsNameIt() {
    SpareRules r = rules(1, FIVE_MINUTES);
    Pass pass = world().host("h-1").pooled("h-1/0").missed(2, Duration.ofMinutes(1)).pass(settings(0, 20, r));
    assertEquals(2, pass.target().spares());
    assertEquals("demand 2", pass.target().key());
    assertEquals("demand 2", pass.memory().targetRule());
    List<ScalingDecision> decided = pass.memory().decisions();
    assertEquals("target", decided.get(0).action());
    assertTrue(decided.get(0).reason().startsWith("demand 2: 0 claims in 5 min"), decided.get(0)::reason);
    assertTrue(decided.get(1).action().equals("scale-out") && decided.get(1).reason().contains("2 spares by demand 2"),
        decided::toString);

    Pass again = world().host("h-1").pooled("h-1/0").missed(2, Duration.ofMinutes(2)).targetRecorded("demand 2")
        .pass(settings(0, 20, r));
    assertTrue(again.memory().decisions().stream().noneMatch(d -> d.action().equals("target")),
        "the same target and rule: nothing recorded");

    Pass scheduled = world().host("h-1").pooled("h-1/0").targetRecorded("demand 2")
        .pass(settings(0, 20, rules(1, FIVE_MINUTES, ALWAYS)));
    assertEquals("schedule 'always' (* * * * * UTC) 4", scheduled.memory().decisions().get(0).reason());
  }

  @Test
  void withoutRulesTheFixedCountAndNoTargetDecision() {
    Pass pass = world().host("h-1").pooled("h-1/0").pass(settings(4, 0, 6));
    assertEquals("base 4", pass.target().rule());
    assertTrue(pass.memory().decisions().stream().noneMatch(d -> d.action().equals("target")));
    assertEquals(null, pass.memory().targetRule());
    assertEquals(null, pass.memory().demand(), "no demand kept without a demand rule");
  }

  @Test
  void eachPassSamplesTheClaimTotalForTheNext() {
    Pass pass = world().host("h-1").pooled("h-1/0").claimsTotal(7).pass(settings(0, 20, rules(1, FIVE_MINUTES)));
    assertEquals(List.of(new io.berth.workflows.model.DemandLog.ClaimSample(NOW, 7)), pass.memory().demand().claims());
  }

  @Test
  void theStableWindowStartsWhenFewerHostsAreFirstWanted() {
    Pass pass = world().host("h-1").host("h-2").pooled("h-1/0", "h-2/0").pass(settings(0, 0, 6));
    assertEquals(NOW, pass.memory().wantedFewerSinceMillis());
    Pass after = world().host("h-1").host("h-2").pooled("h-1/0", "h-2/0").wantedFewerFor(A_MINUTE)
        .pass(settings(0, 0, 6));
    assertEquals(0, after.memory().wantedFewerSinceMillis(), "a scale-in starts the window over");
  }

  @Test
  void aScaleOutStartsTheCooldownAndCountsAsComingUp() {
    Pass pass = world().host("h-1").pooled("h-1/0").pass(settings(4, 0, 6));
    assertEquals(NOW, pass.memory().lastScaleOutMillis());
    assertTrue(pass.memory().comingUp());
    assertTrue(pass.memory().decisions().stream().anyMatch(d -> d.action().equals("scale-out") && d.toHosts() == 3),
        pass.memory().decisions()::toString);
  }

  @Test
  void pooledSparesAreProbedOnceAnIntervalNewcomersAtEveryPass() {
    Pass soon = world().host("h-1").host("h-2").pooled("h-1/0").unresponsive("h-1/0")
        .sparesProbedAgo(Duration.ofSeconds(2)).pass(settings(1, 0, 6));
    assertEquals(List.of("h-2/0"), soon.probed());
    assertEquals(List.of("add spares [h-2/0]"), soon.actions(), "the unanswering spare waits for its turn");

    Pass due = world().host("h-1").host("h-2").pooled("h-1/0").unresponsive("h-1/0")
        .sparesProbedAgo(Duration.ofSeconds(10)).pass(settings(1, 0, 6));
    assertEquals(List.of("h-2/0", "h-1/0"), due.probed());
    assertEquals(NOW, due.memory().sparesProbedAtMillis());
    assertEquals(256, due.memory().probeCursor(), "the next pass probes the next spares");
  }

  @Test
  void probeFailuresAreCountedWithBackoffAndForgottenWhenTheHostPasses() {
    Pass first = world().host("h-1").unresponsive("h-1/0").pass(settings(0, 1, 6));
    assertEquals(1, first.memory().probeFailures().get("h-1").count());
    Pass tooSoon = world().host("h-1").unresponsive("h-1/0").probeFailed("h-1", 1, Duration.ofSeconds(2))
        .pass(settings(0, 1, 6));
    assertEquals(1, tooSoon.memory().probeFailures().get("h-1").count(), "5 s between counted failures");
    Pass passed = world().host("h-1").probeFailed("h-1", 2, A_MINUTE).pass(settings(0, 1, 6));
    assertFalse(passed.memory().probeFailures().containsKey("h-1"));
  }

  @Test
  void turnedAwayWaitersLeaveTheQueue() {
    Pass pass = world().host("h-1", "ada").host("h-2", "bo").waiting(2).pass(settings(0, 0, 2));
    assertTrue(pass.memory().waiters().isEmpty());
    assertTrue(pass.memory().decisions().stream().anyMatch(d -> d.action().equals("at-capacity")));
  }

  @Test
  void aClaimSeenForTheFirstTimeIsRememberedAndOneNoLongerListedForgotten() {
    Pass pass = world().host("h-1").protect("h-1").claim("h-1/0", "r-ada", "ada")
        .claimSeenFor("r-old", Duration.ofSeconds(30)).pass(settings(0, 1, 6));
    assertEquals(java.util.Map.of("r-ada", NOW), pass.memory().claimsSeenSince());
  }

  @Test
  void theSparesAfterThePassCountWhatItAddsAndTakesOut() {
    Pass pass = world().host("h-1").host("h-2").host("h-3").pooled("h-1/0", "h-2/0").unresponsive("h-2/0")
        .pass(settings(2, 0, 6));
    assertEquals(2, pass.spares(), "h-1/0 kept, h-2/0 replaced, h-3/0 added");
  }
}
