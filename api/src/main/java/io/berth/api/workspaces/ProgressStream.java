package io.berth.api.workspaces;

import io.berth.api.errors.ApiException;
import io.berth.workflows.model.WorkspaceView;
import io.micronaut.http.sse.Event;
import io.micronaut.json.JsonMapper;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * A workspace's progress as server-sent events, polled from the workflow's {@code view} query:
 * {@code step} for each new step, {@code state} (the workspace JSON) when the state changes, until
 * READY, FAILED or RELEASED, or the bound. Queries block, so each runs on Reactor's bounded-elastic
 * pool, never on the event loop; the waits between them hold no thread.
 */
@Singleton
public class ProgressStream {
  static final Duration POLL = Duration.ofMillis(250);
  static final Duration BOUND = Duration.ofMinutes(10);
  /** Idle connections are closed by the server (and proxies) after a while: say something before that. */
  static final Duration KEEPALIVE = Duration.ofSeconds(15);
  /** Consecutive failed or empty polls (about five seconds' worth) before the stream gives up. */
  static final int MAX_MISSES = 20;

  private final WorkspaceWorkflows workflows;
  private final JsonMapper json;
  private final Duration poll;
  private final Duration bound;

  @Inject
  public ProgressStream(WorkspaceWorkflows workflows, JsonMapper json) {
    this(workflows, json, POLL, BOUND);
  }

  ProgressStream(WorkspaceWorkflows workflows, JsonMapper json, Duration poll, Duration bound) {
    this.workflows = workflows;
    this.json = json;
    this.poll = poll;
    this.bound = bound;
  }

  /** The stream of the workspace {@code first} shows (queried by the caller, so that a 404 is still JSON). */
  public Flux<Event<String>> follow(String user, WorkspaceView first) {
    Follow f = new Follow(user);
    List<Event<String>> opening = f.events(f.changes.next(first));
    Flux<Event<String>> polls = Mono.fromCallable(f::poll)
        .subscribeOn(Schedulers.boundedElastic())
        .delaySubscription(poll)
        .repeat(() -> !f.done)
        .flatMapIterable(events -> events);
    return Flux.fromIterable(opening)
        .concatWith(Flux.defer(() -> f.done ? Flux.empty() : polls))
        .take(bound);
  }

  /** One stream's memory. Polls run one after the other, never at once, so plain fields do. */
  private final class Follow {
    final String user;
    final ViewChanges changes = new ViewChanges();
    final AtomicLong ids = new AtomicLong();
    long lastSentNanos = System.nanoTime();
    int misses;
    volatile boolean done;

    Follow(String user) {
      this.user = user;
    }

    List<Event<String>> poll() {
      Optional<WorkspaceView> view;
      try {
        view = workflows.latest(user);
      } catch (ApiException e) {
        view = Optional.empty(); // logged where it was translated; the next poll may succeed
      }
      if (view.isEmpty()) {
        if (++misses >= MAX_MISSES) {
          done = true;
          return List.of(event("error", Map.of("error", "unavailable",
              "message", "the workspace cannot be read right now; reload to try again")));
        }
        return List.of();
      }
      misses = 0;
      List<Event<String>> out = events(changes.next(view.get()));
      if (out.isEmpty() && System.nanoTime() - lastSentNanos > KEEPALIVE.toNanos()) {
        out = List.of(event("ping", Map.of()));
      }
      return out;
    }

    List<Event<String>> events(List<ViewChanges.Change> list) {
      done = changes.finished();
      return list.stream().map(c -> event(c.kind(), c.data())).toList();
    }

    Event<String> event(String name, Object data) {
      lastSentNanos = System.nanoTime();
      return Event.of(write(data)).name(name).id(String.valueOf(ids.incrementAndGet()));
    }
  }

  private String write(Object data) {
    try {
      return json.writeValueAsString(data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
