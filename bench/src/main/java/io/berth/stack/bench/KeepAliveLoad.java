package io.berth.stack.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * A closed-loop load: a fixed number of connections, each on its own thread with one request in
 * flight, for an untimed warm-up and then a timed window (both bounded by the clock). Only
 * requests sent and answered inside the window count; the generator's own CPU is kept so a
 * reader can see how much of two cores it took.
 */
final class KeepAliveLoad {
  private KeepAliveLoad() {}

  /** One connection of a run, opened on its thread, then asked for one request after another. */
  interface Connection extends AutoCloseable {
    void request() throws IOException;

    @Override
    void close();
  }

  interface Opener {
    Connection open(int index) throws IOException;
  }

  /**
   * {@code open}: each connection's first opening (all at once at the start), in ms. CPU figures
   * in ms over the timed window: the generator threads' own, and the whole machine's.
   */
  record Result(int connections, long requests, long errors, double seconds, Stats latency, Stats open,
                String firstError, double generatorCpuMs, double machineCpuMs) {
    double rate() {
      return requests / seconds;
    }

    /** Share of all cores busy over the window, and the generator's part of it. */
    String cpu() {
      int cores = Runtime.getRuntime().availableProcessors();
      return String.format("%.0f%% (generator %.0f%%)", 100 * machineCpuMs / (seconds * 1000 * cores),
          100 * generatorCpuMs / (seconds * 1000 * cores));
    }
  }

  static Result run(int conns, Duration warmUp, Duration timed, Opener opener) throws InterruptedException {
    long start = System.nanoTime() + warmUp.toNanos();
    long end = start + timed.toNanos();
    AtomicLong errors = new AtomicLong();
    AtomicLong cpu = new AtomicLong();
    AtomicReference<String> firstError = new AtomicReference<>();
    List<double[]> samples = new ArrayList<>();
    double[] opens = new double[conns];
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    CpuMeter[] meter = new CpuMeter[1];
    double[][] machine = new double[1][];
    List<Thread> ts = new ArrayList<>();
    for (int c = 0; c < conns; c++) {
      int index = c;
      Samples mine = new Samples();
      Thread t = new Thread(() -> {
        long cpu0 = -1;
        Connection conn = null;
        boolean first = true;
        while (System.nanoTime() < end) {
          if (cpu0 < 0 && System.nanoTime() >= start) {
            cpu0 = threads.getCurrentThreadCpuTime();
          }
          long t0 = System.nanoTime();
          try {
            if (conn == null) {
              conn = opener.open(index);
              if (first) {
                opens[index] = (System.nanoTime() - t0) / 1e6;
                first = false;
              }
              continue;
            }
            conn.request();
            long t1 = System.nanoTime();
            if (t0 >= start && t1 <= end) {
              mine.add((t1 - t0) / 1e6);
            }
          } catch (IOException | RuntimeException e) {
            if (t0 >= start) {
              errors.incrementAndGet();
              firstError.compareAndSet(null, e.toString());
            }
            if (conn != null) {
              conn.close();
              conn = null;
            }
            BenchStack.sleep(5); // a refused connection must not spin
          }
        }
        if (conn != null) {
          conn.close();
        }
        if (cpu0 >= 0) {
          cpu.addAndGet(threads.getCurrentThreadCpuTime() - cpu0);
        }
        synchronized (samples) {
          samples.add(mine.values());
        }
      }, "bench-load-" + c);
      t.setDaemon(true);
      ts.add(t);
    }
    ts.forEach(Thread::start);
    Thread meterThread = new Thread(() -> {
      sleepUntil(start);
      meter[0] = CpuMeter.now();
      sleepUntil(end);
      machine[0] = meter[0].since();
    }, "bench-load-meter");
    meterThread.start();
    for (Thread t : ts) {
      t.join(Math.max(1, (end - System.nanoTime()) / 1_000_000) + 30_000);
    }
    meterThread.join(30_000);
    int n = samples.stream().mapToInt(a -> a.length).sum();
    double[] all = new double[n];
    int at = 0;
    for (double[] a : samples) {
      System.arraycopy(a, 0, all, at, a.length);
      at += a.length;
    }
    return new Result(conns, n, errors.get(), timed.toNanos() / 1e9, Stats.of(all), Stats.of(opens),
        firstError.get(), cpu.get() / 1e6, machine[0] == null ? Double.NaN : machine[0][1]);
  }

  private static void sleepUntil(long nanoTime) {
    long ms = (nanoTime - System.nanoTime()) / 1_000_000;
    if (ms > 0) {
      BenchStack.sleep(ms);
    }
  }

  /** Latencies in ms, appended without boxing. */
  private static final class Samples {
    private double[] v = new double[4096];
    private int n;

    void add(double x) {
      if (n == v.length) {
        v = java.util.Arrays.copyOf(v, n * 2);
      }
      v[n++] = x;
    }

    double[] values() {
      return java.util.Arrays.copyOf(v, n);
    }
  }

  /**
   * HTTP/1.1 over a kept socket: connection {@code i} sends {@code requestFor.apply(i)} again and
   * again and wants {@code status} back; a server's {@code Connection: close} reconnects on the next request.
   */
  static Opener http(String host, int port, IntFunction<byte[]> requestFor, int status) {
    return i -> new HttpConnection(host, port, requestFor.apply(i), status);
  }

  private static final class HttpConnection implements Connection {
    private final String host;
    private final int port;
    private final byte[] request;
    private final String want;
    private Socket socket;
    private InputStream in;
    private OutputStream out;

    HttpConnection(String host, int port, byte[] request, int status) throws IOException {
      this.host = host;
      this.port = port;
      this.request = request;
      this.want = " " + status;
      connect();
    }

    private void connect() throws IOException {
      socket = new Socket();
      socket.connect(new InetSocketAddress(host, port), 5000);
      socket.setSoTimeout(10_000);
      socket.setTcpNoDelay(true);
      in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
      out = new BufferedOutputStream(socket.getOutputStream(), 16 * 1024);
    }

    @Override
    public void request() throws IOException {
      if (socket == null) {
        connect();
      }
      out.write(request);
      out.flush();
      Map<String, String> h = WebSocketEcho.Http.headers(in);
      skipBody(h);
      String start = h.get(":status");
      if ("close".equalsIgnoreCase(h.get("connection"))) {
        socket.close();
        socket = null;
      }
      if (!start.regionMatches(8, want, 0, want.length())) {
        throw new IOException("answered " + start);
      }
    }

    private void skipBody(Map<String, String> h) throws IOException {
      String length = h.get("content-length");
      if (length != null) {
        in.skipNBytes(Long.parseLong(length));
        return;
      }
      if (!"chunked".equals(h.getOrDefault("transfer-encoding", "").toLowerCase(Locale.ROOT))) {
        return;
      }
      while (true) {
        String size = WebSocketEcho.Http.line(in);
        long n = Long.parseLong(size.split(";")[0].trim(), 16);
        if (n == 0) {
          while (!WebSocketEcho.Http.line(in).isEmpty()) {
            // trailers
          }
          return;
        }
        in.skipNBytes(n);
        WebSocketEcho.Http.line(in);
      }
    }

    @Override
    public void close() {
      try {
        if (socket != null) {
          socket.close();
        }
      } catch (IOException e) {
        // nothing left to do
      }
    }
  }

  /** A WebSocket opened with the given Host and Cookie, then messages echoed one at a time. */
  static Opener webSocket(String host, int port, String hostHeader, String cookie, byte[] message) {
    return i -> {
      WebSocketEcho.Client c = WebSocketEcho.Client.open(host, port, hostHeader, cookie);
      return new Connection() {
        @Override
        public void request() throws IOException {
          c.echo(message);
        }

        @Override
        public void close() {
          c.close();
        }
      };
    };
  }
}
