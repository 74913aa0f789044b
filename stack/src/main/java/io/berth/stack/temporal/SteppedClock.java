package io.berth.stack.temporal;

import com.google.protobuf.Empty;
import io.grpc.ManagedChannel;
import io.temporal.api.testservice.v1.SleepRequest;
import io.temporal.api.testservice.v1.TestServiceGrpc;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The embedded test server's workflow clock, moved forward on demand: {@link #advance} lets time
 * skip for a span and locks it again. While the clock is locked it runs in real time; while it is
 * unlocked it still waits for every workflow task and activity in flight (the server holds the lock
 * for them), so each timer in the span fires in order and its work runs before time moves on.
 */
public final class SteppedClock implements AutoCloseable {
  private final ManagedChannel channel;
  private final TestServiceGrpc.TestServiceBlockingStub stub;

  public SteppedClock(EmbeddedTemporal server) {
    this.channel = server.channel();
    this.stub = TestServiceGrpc.newBlockingStub(channel);
  }

  /** The workflow clock, epoch millis. */
  public long nowMillis() {
    com.google.protobuf.Timestamp t = stub.getCurrentTime(Empty.getDefaultInstance()).getTime();
    return t.getSeconds() * 1000 + t.getNanos() / 1_000_000;
  }

  /** Skips {@code span} of workflow time (bounded by {@code realBound} of real time), then locks again. */
  public void advance(Duration span, Duration realBound) {
    if (span.isNegative() || span.isZero()) {
      return;
    }
    stub.withDeadlineAfter(realBound.toMillis(), TimeUnit.MILLISECONDS).unlockTimeSkippingWithSleep(
        SleepRequest.newBuilder().setDuration(com.google.protobuf.Duration.newBuilder()
            .setSeconds(span.getSeconds()).setNanos(span.getNano())).build());
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }
}
