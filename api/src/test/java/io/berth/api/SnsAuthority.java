package io.berth.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * Plays SNS for the endpoint's tests with real key material made by the JDK's keytool: an RSA
 * signing key whose self-signed certificate is served at {@link #certUrl()}, and a loopback HTTPS
 * server (its own self-signed certificate for 127.0.0.1, trusted through {@link #trustPem()})
 * that also answers subscribe URLs and counts them.
 */
final class SnsAuthority implements AutoCloseable {
  private static final char[] PASS = "changeit".toCharArray();
  private static final ObjectMapper JSON = new ObjectMapper();

  final Path dir;
  final PrivateKey signingKey;
  /** Another key, for messages signed by someone else. */
  final PrivateKey otherKey;
  private final HttpsServer server;
  private final List<String> hits = new ArrayList<>();

  private SnsAuthority() throws IOException, GeneralSecurityException, InterruptedException {
    dir = Files.createTempDirectory("berth-sns");
    KeyStore signer = keyPair("signer", "CN=sns.test", null);
    KeyStore tls = keyPair("tls", "CN=127.0.0.1", "SAN=ip:127.0.0.1");
    signingKey = (PrivateKey) signer.getKey("signer", PASS);
    otherKey = (PrivateKey) tls.getKey("tls", PASS);
    Files.writeString(dir.resolve("signer.pem"), pem((X509Certificate) signer.getCertificate("signer")));
    Files.writeString(dir.resolve("trust.pem"), pem((X509Certificate) tls.getCertificate("tls")));

    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(tls, PASS);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(kmf.getKeyManagers(), null, null);
    server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(ssl));
    server.createContext("/", this::handle);
    server.start();
  }

  static SnsAuthority start() {
    try {
      return new SnsAuthority();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  String base() {
    return "https://127.0.0.1:" + server.getAddress().getPort();
  }

  String certUrl() {
    return base() + "/SimpleNotificationService-test.pem";
  }

  Path trustPem() {
    return dir.resolve("trust.pem");
  }

  /** Paths (with query) requested so far. */
  synchronized List<String> hits() {
    return List.copyOf(hits);
  }

  synchronized long hits(String prefix) {
    return hits.stream().filter(h -> h.startsWith(prefix)).count();
  }

  /** The fields in AWS's order for the type, "name\nvalue\n" each, written here independently of the API's code. */
  static String stringToSign(Map<String, String> m) {
    List<String> names = "Notification".equals(m.get("Type"))
        ? List.of("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
        : List.of("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type");
    StringBuilder s = new StringBuilder();
    for (String n : names) {
      if (m.containsKey(n)) {
        s.append(n).append('\n').append(m.get(n)).append('\n');
      }
    }
    return s.toString();
  }

  /** Adds SignatureVersion, SigningCertURL and Signature (over the fields as they are now). */
  Map<String, String> signed(Map<String, String> fields, String version, PrivateKey key, String certUrl) {
    Map<String, String> m = new LinkedHashMap<>(fields);
    m.put("SignatureVersion", version);
    m.put("SigningCertURL", certUrl);
    try {
      Signature s = Signature.getInstance("1".equals(version) ? "SHA1withRSA" : "SHA256withRSA");
      s.initSign(key);
      s.update(stringToSign(m).getBytes(StandardCharsets.UTF_8));
      m.put("Signature", Base64.getEncoder().encodeToString(s.sign()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    return m;
  }

  Map<String, String> signed(Map<String, String> fields, String version) {
    return signed(fields, version, signingKey, certUrl());
  }

  static String json(Object o) {
    try {
      return JSON.writeValueAsString(o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getRawPath();
      String query = ex.getRequestURI().getRawQuery();
      synchronized (this) {
        hits.add(query == null ? path : path + "?" + query);
      }
      byte[] body = path.endsWith(".pem") ? Files.readAllBytes(dir.resolve("signer.pem"))
          : "<ConfirmSubscriptionResponse/>".getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
    }
  }

  private KeyStore keyPair(String alias, String dname, String extension)
      throws IOException, GeneralSecurityException, InterruptedException {
    Path file = dir.resolve(alias + ".p12");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
        "-genkeypair", "-alias", alias, "-keyalg", "RSA", "-keysize", "2048", "-validity", "2", "-dname", dname,
        "-storetype", "PKCS12", "-keystore", file.toString(), "-storepass", new String(PASS),
        "-keypass", new String(PASS)));
    if (extension != null) {
      cmd.addAll(List.of("-ext", extension));
    }
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("keytool failed: " + out);
    }
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(file)) {
      ks.load(in, PASS);
    }
    return ks;
  }

  private static String pem(X509Certificate cert) throws GeneralSecurityException {
    return "-----BEGIN CERTIFICATE-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(cert.getEncoded())
        + "\n-----END CERTIFICATE-----\n";
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
