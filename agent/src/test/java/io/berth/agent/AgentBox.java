package io.berth.agent;

import io.berth.testkit.AgentHost;
import io.berth.testkit.FakeAws;
import io.berth.testkit.FreePorts;
import java.io.IOException;
import java.nio.file.Path;

/** The agent tests' instance: the only member of a one-instance group, heartbeats going to a {@link FakeApi}. */
final class AgentBox extends AgentHost {
  static final String GROUP = "berth-workspaces";

  final FakeApi api;

  private AgentBox(Path dir, FakeAws aws, FakeApi api) throws IOException {
    super(dir, aws, aws.group(GROUP, 0, 1, 1).members(GROUP).get(0), api.url(), FreePorts.next(), FreePorts.next());
    this.api = api;
  }

  AgentBox(Path dir, FakeAws aws) throws IOException {
    this(dir, aws, new FakeApi());
  }

  @Override
  public AgentBox env(String name, String value) {
    super.env(name, value);
    return this;
  }

  @Override
  public void close() throws Exception {
    super.close();
    api.close();
  }
}
