package io.berth.api.aws;

import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The only outbound calls the SNS endpoint makes: GETs of a signing certificate or a subscribe
 * URL taken from a message. A URL is followed only when it is https on a host matching
 * {@link SnsSettings#hostPattern()}, with no user info; redirects are not followed (they could lead
 * anywhere) and bodies are read up to a bound.
 */
@Singleton
public class SnsLinks {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private final Pattern hosts;
  private final HttpClient http;

  public SnsLinks(SnsSettings settings) {
    this.hosts = settings.hosts();
    HttpClient.Builder b = HttpClient.newBuilder()
        .connectTimeout(TIMEOUT)
        .followRedirects(HttpClient.Redirect.NEVER);
    if (settings.trustCerts() != null) {
      b.sslContext(trusting(Path.of(settings.trustCerts())));
    }
    this.http = b.build();
  }

  /** The URL parsed, when it may be fetched; null otherwise. */
  public URI allowed(String url) {
    if (url == null) {
      return null;
    }
    try {
      URI u = new URI(url);
      String host = u.getHost();
      boolean ok = "https".equalsIgnoreCase(u.getScheme()) && u.getRawUserInfo() == null && host != null
          && hosts.matcher(host.toLowerCase(Locale.ROOT)).matches();
      return ok ? u : null;
    } catch (URISyntaxException e) {
      return null;
    }
  }

  /** GET of an allowed URL: the body when the answer is 200, at most {@code maxBytes}. */
  public byte[] get(URI uri, int maxBytes) throws IOException {
    if (allowed(uri.toString()) == null) {
      throw new IllegalArgumentException("not an allowed SNS URL");
    }
    HttpRequest request = HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET().build();
    try {
      HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream in = r.body()) {
        if (r.statusCode() != 200) {
          throw new IOException("HTTP " + r.statusCode());
        }
        byte[] body = in.readNBytes(maxBytes + 1);
        if (body.length > maxBytes) {
          throw new IOException("answer larger than " + maxBytes + " bytes");
        }
        return body;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private static SSLContext trusting(Path pem) {
    try (InputStream in = Files.newInputStream(pem)) {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      int n = 0;
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        store.setCertificateEntry("ca-" + n++, c);
      }
      if (n == 0) {
        throw new IllegalStateException("berth.sns.trust-certs " + pem + " holds no certificate");
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      SSLContext ssl = SSLContext.getInstance("TLS");
      ssl.init(null, tmf.getTrustManagers(), null);
      return ssl;
    } catch (IOException e) {
      throw new UncheckedIOException("berth.sns.trust-certs " + pem, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("berth.sns.trust-certs " + pem + ": " + e.getMessage(), e);
    }
  }
}
