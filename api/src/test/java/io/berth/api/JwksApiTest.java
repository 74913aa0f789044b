package io.berth.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.micronaut.context.ApplicationContext;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * User JWTs from an identity provider: its key set is served by a loopback HTTP server with an
 * RS256 key made here; issuer and audience are configured. GET /api/workspaces/me answers 404
 * (no workspace) once the token is accepted, 401 while it is not.
 */
@MicronautTest
class JwksApiTest extends ApiTestBase {
  static final String ISSUER = "https://idp.test/";
  static final String AUDIENCE = "berth";
  private static final RSAKey KEY = rsa("idp-key-1");
  /** Same kid, other key material: what a forger who read the key id would sign with. */
  private static final RSAKey IMPOSTOR = rsa("idp-key-1");
  private static final AtomicInteger FETCHES = new AtomicInteger();
  private static final HttpServer IDP = serveKeys();

  private static RSAKey rsa(String kid) {
    try {
      return new RSAKeyGenerator(2048).keyID(kid).generate();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  private static HttpServer serveKeys() {
    try {
      HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
      byte[] body = new JWKSet(KEY.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
      s.createContext("/.well-known/jwks.json", ex -> {
        FETCHES.incrementAndGet();
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, body.length);
        try (OutputStream out = ex.getResponseBody()) {
          out.write(body);
        }
      });
      s.start();
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String jwksUrl() {
    return "http://127.0.0.1:" + IDP.getAddress().getPort() + "/.well-known/jwks.json";
  }

  @AfterAll
  static void stopIdp() {
    IDP.stop(0);
  }

  @Override
  public Map<String, String> getProperties() {
    Map<String, String> p = new HashMap<>(super.getProperties());
    p.put("berth.jwt.jwks-url", jwksUrl());
    p.put("berth.jwt.issuer", ISSUER);
    p.put("berth.jwt.audience", AUDIENCE);
    return p;
  }

  private static JWTClaimsSet.Builder claims(String sub) {
    return new JWTClaimsSet.Builder().subject(sub).issuer(ISSUER).audience(List.of("other-app", AUDIENCE))
        .issueTime(new Date()).expirationTime(Date.from(Instant.now().plusSeconds(600)));
  }

  private static String rs256(RSAKey key, JWTClaimsSet claims) {
    try {
      SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
      jwt.sign(new RSASSASigner(key));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  private int me(String token) {
    return http.get("/api/workspaces/me", token).status();
  }

  @Test
  void aTokenSignedByTheProvidersKeyIsAccepted() {
    Http.Answer a = http.get("/api/workspaces/me", rs256(KEY, claims(user("idp-user")).build()));
    assertEquals(404, a.status(), a.body());
    assertEquals("not_found", a.json().path("error").asText());
    String single = rs256(KEY, claims(user("idp-user")).audience(AUDIENCE).build());
    assertEquals(404, me(single), "a single-valued aud counts too");
    assertTrue(FETCHES.get() >= 1, "the key set was fetched from the provider");
  }

  @Test
  void aTokenSignedByAnotherKeyIsRefused() {
    assertEquals(401, me(rs256(IMPOSTOR, claims("mallory").build())));
  }

  @Test
  void theLocalHs256KeyNoLongerSignsUserTokens() {
    assertEquals(401, me(token(user("local"))));
    assertEquals(401, me(Jwts.signed(secret, claims("mallory").build())));
  }

  @Test
  void wrongIssuerWrongAudienceExpiredAndUnsignedAreRefused() {
    assertEquals(401, me(rs256(KEY, claims("mallory").issuer("https://evil.test/").build())), "issuer");
    assertEquals(401, me(rs256(KEY, new JWTClaimsSet.Builder(claims("mallory").build()).claim("iss", null).build())),
        "no issuer");
    assertEquals(401, me(rs256(KEY, claims("mallory").audience("other-app").build())), "audience");
    assertEquals(401, me(rs256(KEY, new JWTClaimsSet.Builder(claims("mallory").build()).audience((String) null)
        .build())), "no audience");
    assertEquals(401, me(rs256(KEY, claims("mallory").expirationTime(Date.from(Instant.now().minusSeconds(3600)))
        .build())), "expired");
    assertEquals(401, me(rs256(KEY, new JWTClaimsSet.Builder(claims("mallory").build()).expirationTime(null)
        .build())), "no expiry");
    assertEquals(401, me(new PlainJWT(claims("mallory").build()).serialize()), "alg none");
    String good = rs256(KEY, claims("mallory").build());
    String[] parts = good.split("\\.");
    String swapped = parts[0] + "." + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
        claims("admin").claim("roles", List.of("admin")).build().toString().getBytes(StandardCharsets.UTF_8)) + "."
        + parts[2];
    assertEquals(401, me(swapped), "claims changed after signing");
  }

  @Test
  void aMalformedJwksUrlStopsStartup() {
    Map<String, Object> p = new HashMap<>(getProperties());
    p.put("berth.jwt.jwks-url", "not a url");
    Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
        () -> ApplicationContext.run(p).close());
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    assertTrue(root.getMessage().contains("BERTH_JWT_JWKS_URL"), root.getMessage());
  }
}
