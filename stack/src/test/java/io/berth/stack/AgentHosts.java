package io.berth.stack;

import io.berth.testkit.AgentHost;
import io.berth.testkit.FakeAws;
import io.berth.testkit.FreePorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The instances of a {@link FakeAws} group as deploy/aws's recipe runs them, with the real
 * berth-agent: on each launch, an {@link AgentHost} on the instance's 127.0.0.x address starts
 * its template process and its agent process (off the fake's lock: the agent talks to the fake).
 */
final class AgentHosts implements AutoCloseable {
  final int templatePort = FreePorts.next();
  final int agentPort = FreePorts.next();
  private final Path dir;
  private final URI apiUrl;
  private final Map<String, AgentHost> hosts = new ConcurrentHashMap<>();
  private final ExecutorService boot = Executors.newSingleThreadExecutor();

  AgentHosts(URI apiUrl) {
    this.apiUrl = apiUrl;
    try {
      this.dir = Files.createTempDirectory("berth-agents");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  FakeAws attach(FakeAws aws) {
    return aws.onLaunch(i -> boot.submit(() -> launch(aws, i))).onTerminate(i -> boot.submit(() -> terminate(i.id())));
  }

  AgentHost get(String instanceId) {
    return hosts.get(instanceId);
  }

  private void launch(FakeAws aws, FakeAws.Instance instance) {
    try {
      AgentHost host = new AgentHost(dir.resolve(instance.id()), aws, instance, apiUrl, agentPort, templatePort);
      hosts.put(instance.id(), host);
      // As the recipe's units do: the template starts once the agent serves.
      host.startAgent();
      host.startTemplate(0);
    } catch (Exception e) {
      throw new IllegalStateException("could not boot " + instance.id(), e);
    }
  }

  private void terminate(String id) {
    AgentHost host = hosts.remove(id);
    if (host != null) {
      try {
        host.close();
      } catch (Exception e) {
        // The instance is gone either way; its processes die with the test run at the latest.
      }
    }
  }

  @Override
  public void close() {
    boot.shutdownNow();
    hosts.keySet().forEach(this::terminate);
    try (var files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // A leftover temp directory is all that is lost.
    }
  }
}
