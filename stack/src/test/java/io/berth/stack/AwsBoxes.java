package io.berth.stack;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.berth.testkit.FakeAgent;
import io.berth.testkit.FakeAws;
import io.berth.testkit.FreePorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The instances of a {@link FakeAws} group as their user data would run them: on each instance's
 * 127.0.0.x address a template (a small page on the template port naming its owner) and the agent
 * (a {@link FakeAgent} on the agent port), plus the agent's tag watcher, which restarts the
 * template on a new {@code Recycle} tag and then deletes the tag, after CreateTags has returned,
 * as a polling agent would.
 */
public final class AwsBoxes implements AutoCloseable {
  public final int templatePort = FreePorts.next();
  public final int agentPort = FreePorts.next();
  private final Map<String, Box> boxes = new ConcurrentHashMap<>();
  private final ExecutorService agentLoop = Executors.newSingleThreadExecutor();
  private FakeAws aws;

  /** Hands the fake's launch, terminate and tag news to the boxes; returns the fake. */
  public FakeAws attach(FakeAws fake) {
    this.aws = fake;
    return fake
        .onLaunch(i -> boxes.put(i.id(), new Box(i.id(), i.privateAddress())))
        .onTerminate(i -> {
          Box b = boxes.remove(i.id());
          if (b != null) {
            b.close();
          }
        })
        .onTags(i -> {
          String recycle = i.tags().get("Recycle");
          if (recycle != null) {
            agentLoop.submit(() -> recycled(i.id(), recycle));
          }
        });
  }

  public Box get(String instanceId) {
    return boxes.get(instanceId);
  }

  private void recycled(String id, String value) {
    Box b = boxes.get(id);
    if (b == null) {
      return;
    }
    b.restartTemplate();
    FakeAws.Instance instance = aws.instance(id);
    if (instance != null && value.equals(instance.tags().get("Recycle"))) {
      aws.untag(id, "Recycle");
    }
  }

  @Override
  public void close() {
    agentLoop.shutdownNow();
    boxes.values().forEach(Box::close);
  }

  /** One instance: its template on the template port and its agent, both on the instance address. */
  public final class Box implements AutoCloseable {
    public final String id;
    public final String address;
    public final FakeAgent agent;
    public final AtomicInteger generation = new AtomicInteger();
    private HttpServer template;

    private Box(String id, String address) {
      this.id = id;
      this.address = address;
      this.agent = FakeAgent.start(address, agentPort);
      this.template = serve();
    }

    synchronized void restartTemplate() {
      template.stop(0);
      template = serve();
      generation.incrementAndGet();
    }

    private HttpServer serve() {
      try {
        HttpServer s = HttpServer.create(new InetSocketAddress(address, templatePort), 16);
        s.createContext("/", this::page);
        s.start();
        return s;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private void page(HttpExchange ex) throws IOException {
      try (ex) {
        FakeAgent.Credentials c = agent.credentials(0);
        String body = ex.getRequestURI().getPath().equals("/healthz") ? "ok"
            : c == null ? "warm spare on " + address : "Workspace of " + c.user() + " on " + address;
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(200, bytes.length);
        ex.getResponseBody().write(bytes);
      }
    }

    @Override
    public synchronized void close() {
      template.stop(0);
      agent.close();
    }
  }
}
