package io.berth.api.aws;

import jakarta.inject.Singleton;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks an SNS message's signature as AWS documents it: SignatureVersion 1 is SHA1withRSA, 2 is
 * SHA256withRSA, over {@link SnsMessage#stringToSign()}, with the public key of the X.509
 * certificate at SigningCertURL (https on an allowed host, see {@link SnsLinks}). Certificates
 * are cached by URL; a certificate that has expired is fetched again and then refused.
 */
@Singleton
public class SnsSignatures {
  private static final Logger log = LoggerFactory.getLogger(SnsSignatures.class);
  private static final int MAX_CERT_BYTES = 16 * 1024;
  private static final int CACHED = 16;

  private final SnsLinks links;
  private final Map<String, X509Certificate> certificates = Collections.synchronizedMap(
      new LinkedHashMap<>(CACHED, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, X509Certificate> eldest) {
          return size() > CACHED;
        }
      });

  public SnsSignatures(SnsLinks links) {
    this.links = links;
  }

  /** Why the message is not AWS's, or null when its signature holds. */
  public String problem(SnsMessage m) {
    String algorithm = switch (String.valueOf(m.get("SignatureVersion"))) {
      case "1" -> "SHA1withRSA";
      case "2" -> "SHA256withRSA";
      default -> null;
    };
    if (algorithm == null) {
      return "unsupported SignatureVersion";
    }
    URI certUrl = links.allowed(m.get("SigningCertURL"));
    if (certUrl == null) {
      return "SigningCertURL is not https on an allowed SNS host";
    }
    byte[] signature;
    try {
      signature = Base64.getDecoder().decode(m.get("Signature"));
    } catch (IllegalArgumentException e) {
      return "Signature is not base64";
    }
    PublicKey key;
    try {
      key = certificate(certUrl).getPublicKey();
    } catch (IOException | GeneralSecurityException e) {
      log.warn("SNS signing certificate {} unusable: {}", certUrl, e.toString());
      return "signing certificate unavailable";
    }
    try {
      Signature v = Signature.getInstance(algorithm);
      v.initVerify(key);
      v.update(m.stringToSign().getBytes(StandardCharsets.UTF_8));
      return v.verify(signature) ? null : "signature does not match";
    } catch (GeneralSecurityException e) {
      return "signature does not match";
    }
  }

  private X509Certificate certificate(URI url) throws IOException, GeneralSecurityException {
    X509Certificate cert = certificates.get(url.toString());
    if (cert == null || !currentlyValid(cert)) {
      byte[] pem = links.get(url, MAX_CERT_BYTES);
      cert = (X509Certificate) CertificateFactory.getInstance("X.509")
          .generateCertificate(new ByteArrayInputStream(pem));
      cert.checkValidity();
      certificates.put(url.toString(), cert);
    }
    return cert;
  }

  private static boolean currentlyValid(X509Certificate cert) {
    try {
      cert.checkValidity();
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
