package io.berth.api;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/** Test tokens, including the ones TokenMinter refuses to make. */
final class Jwts {
  private Jwts() {}

  static JWTClaimsSet claims(String sub, List<String> roles, Instant exp) {
    return new JWTClaimsSet.Builder().subject(sub).issueTime(new Date()).expirationTime(Date.from(exp))
        .claim("roles", roles).build();
  }

  static String signed(String secret, JWTClaimsSet claims) {
    try {
      SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
      jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
      return jwt.serialize();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Any subject, valid signature: for user ids TokenMinter would reject. */
  static String anySubject(String secret, String sub) {
    return signed(secret, claims(sub, List.of(), Instant.now().plusSeconds(600)));
  }

  static String expired(String secret, String sub) {
    return signed(secret, claims(sub, List.of(), Instant.now().minusSeconds(3600)));
  }

  /** {"alg":"none"}: claims anyone could write, admin role included. */
  static String unsigned(String sub) {
    return new PlainJWT(claims(sub, List.of("admin"), Instant.now().plusSeconds(600))).serialize();
  }
}
