package io.berth.stack.temporal;

import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.temporal.internal.testservice.TestServicesStarter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Temporal's test server in this JVM, in real time, bound to 127.0.0.1 only.
 * {@code TestServer.createPortBoundServer} binds every interface, so we bind its services ourselves.
 * The same services are also served in-process ({@link #channel()}): the worker and the API of
 * this JVM reach them without HTTP/2 framing or protobuf encoding (over loopback TCP, gRPC's
 * threads took a third of the JVM's CPU samples in a warm-allocation bench). The port stays for
 * everything outside the JVM (the temporal CLI, a worker in its own process).
 * History lives in memory: it is gone when the process stops (docs/OPERATIONS.md says so).
 */
public final class EmbeddedTemporal implements AutoCloseable {
  private final TestServicesStarter services;
  private final Server server;
  private final Server inProcess;
  private final String inProcessName;

  private EmbeddedTemporal(TestServicesStarter services, Server server, Server inProcess, String inProcessName) {
    this.services = services;
    this.server = server;
    this.inProcess = inProcess;
    this.inProcessName = inProcessName;
  }

  public static EmbeddedTemporal start(int port) {
    return start(port, 0);
  }

  /**
   * {@code clockStartMillis}: the workflow clock's start (epoch millis), 0 for now. Either way time
   * skipping stays locked, so timers run in real time until someone advances the clock
   * ({@link SteppedClock}).
   */
  public static EmbeddedTemporal start(int port, long clockStartMillis) {
    // lockTimeSkipping = true: timers run in real time.
    TestServicesStarter services = new TestServicesStarter(true, clockStartMillis);
    TimeLockLog.stopRecording(services);
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        // No auth in the test server: the TCP frontend serves Berth's own OS user only (workspaces run as others).
        .addTransportFilter(PeerUid.filter())
        .intercept(PeerUid.interceptor());
    String name = "berth-temporal-" + UUID.randomUUID();
    InProcessServerBuilder local = InProcessServerBuilder.forName(name);
    for (BindableService s : services.getServices()) {
      builder.addService(s);
      local.addService(s);
    }
    Server server = null;
    try {
      server = builder.build().start();
      return new EmbeddedTemporal(services, server, local.build().start(), name);
    } catch (IOException e) {
      if (server != null) {
        server.shutdownNow();
      }
      services.close();
      throw new UncheckedIOException("cannot start the embedded Temporal server on 127.0.0.1:" + port, e);
    }
  }

  /** A channel to the same server inside this JVM; the caller shuts it down. */
  public ManagedChannel channel() {
    return InProcessChannelBuilder.forName(inProcessName).build();
  }

  public String target() {
    return "127.0.0.1:" + server.getPort();
  }

  @Override
  public void close() {
    inProcess.shutdownNow();
    server.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
      inProcess.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    services.close();
  }
}
