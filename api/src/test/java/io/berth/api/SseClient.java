package io.berth.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Reads a text/event-stream as events arrive; a reader thread per stream, every wait bounded. */
final class SseClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final URI base;

  SseClient(URI base) {
    this.base = base;
  }

  record Sse(String id, String event, String data) {
    JsonNode json() {
      try {
        return JSON.readTree(data);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + data, e);
      }
    }
  }

  /** An open stream: its status and headers, and (for 200) the events as they come; END after the last. */
  static final class EventStream implements AutoCloseable {
    static final Sse END = new Sse(null, "(end)", null);
    final HttpResponse<Stream<String>> response;
    final BlockingQueue<Sse> events = new LinkedBlockingQueue<>();
    private final Thread reader;

    EventStream(HttpResponse<Stream<String>> response) {
      this.response = response;
      this.reader = new Thread(this::read, "sse-reader");
      reader.setDaemon(true);
      reader.start();
    }

    int status() {
      return response.statusCode();
    }

    String contentType() {
      return response.headers().firstValue("Content-Type").orElse("");
    }

    /** The body of a non-stream answer (an error), joined. */
    String body() throws InterruptedException {
      List<String> lines = new ArrayList<>();
      for (Sse e = next(Duration.ofSeconds(10)); e != END; e = next(Duration.ofSeconds(10))) {
        lines.add(e.data());
      }
      return String.join("\n", lines);
    }

    /** The next event, or END once the server closed the stream; fails after {@code bound}. */
    Sse next(Duration bound) throws InterruptedException {
      Sse e = events.poll(bound.toMillis(), TimeUnit.MILLISECONDS);
      if (e == null) {
        throw new AssertionError("no event within " + bound);
      }
      return e;
    }

    /** Everything up to the end of the stream, which must come within {@code bound}. */
    List<Sse> rest(Duration bound) throws InterruptedException {
      long deadline = System.nanoTime() + bound.toNanos();
      List<Sse> out = new ArrayList<>();
      while (true) {
        Sse e = next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        if (e == END) {
          return out;
        }
        out.add(e);
      }
    }

    private void read() {
      String id = null;
      String event = null;
      StringBuilder data = null;
      boolean sse = contentType().startsWith("text/event-stream");
      try (Stream<String> lines = response.body()) {
        for (String line : (Iterable<String>) lines::iterator) {
          if (!sse) {
            events.add(new Sse(null, null, line));
          } else if (line.isEmpty()) {
            if (data != null) {
              events.add(new Sse(id, event, data.toString()));
            }
            id = null;
            event = null;
            data = null;
          } else if (line.startsWith("data:")) {
            String d = line.substring(5).stripLeading();
            data = data == null ? new StringBuilder(d) : data.append('\n').append(d);
          } else if (line.startsWith("event:")) {
            event = line.substring(6).strip();
          } else if (line.startsWith("id:")) {
            id = line.substring(3).strip();
          }
        }
      } catch (UncheckedIOException e) {
        // closed by us or cut by the server: either way the stream is over
      } finally {
        events.add(END);
      }
    }

    @Override
    public void close() {
      reader.interrupt();
      try {
        response.body().close();
      } catch (RuntimeException ignored) {
        // already closed
      }
    }
  }

  EventStream open(String path, String bearer) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).header("Accept", "text/event-stream")
        .timeout(Duration.ofSeconds(30));
    if (bearer != null) {
      b.header("Authorization", "Bearer " + bearer);
    }
    try {
      return new EventStream(http.send(b.GET().build(), HttpResponse.BodyHandlers.ofLines()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
