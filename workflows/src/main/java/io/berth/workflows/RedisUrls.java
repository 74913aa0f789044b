package io.berth.workflows;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Redis URLs with their credentials. A URL may carry a password ({@code redis://:pw@host:port});
 * {@code BERTH_REDIS_PASSWORD_FILE} names a file holding it instead (mode 600, so that no
 * workspace process can read it), which keeps the password out of the environment and of process
 * listings. Never log a URL without {@link #redact}.
 */
public final class RedisUrls {
  public static final String PASSWORD_FILE_ENV = "BERTH_REDIS_PASSWORD_FILE";

  private RedisUrls() {}

  /** {@code url} with the password from {@code passwordFile} (when not null or blank) as its user info. */
  public static String withPasswordFile(String url, String passwordFile) {
    if (passwordFile == null || passwordFile.isBlank()) {
      return url;
    }
    String password;
    try {
      password = Files.readString(Path.of(passwordFile.trim()), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new IllegalStateException(PASSWORD_FILE_ENV + ": cannot read " + passwordFile + " (" + e.getMessage() + ")");
    }
    if (password.isEmpty() || password.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalStateException(PASSWORD_FILE_ENV + ": " + passwordFile + " must hold one line, the password");
    }
    URI u = parse(url);
    if (u.getRawUserInfo() != null) {
      throw new IllegalStateException("BERTH_REDIS_URL already carries credentials; drop them or " + PASSWORD_FILE_ENV);
    }
    String encoded = URLEncoder.encode(password, StandardCharsets.UTF_8).replace("+", "%20");
    return u.getScheme() + "://:" + encoded + "@" + u.getRawAuthority() + (u.getRawPath() == null ? "" : u.getRawPath());
  }

  /** The URL with any password replaced by {@code ***}: what may reach a log. */
  public static String redact(String url) {
    try {
      URI u = new URI(url);
      if (u.getRawUserInfo() == null) {
        return url;
      }
      String user = u.getRawUserInfo();
      int colon = user.indexOf(':');
      String shown = colon < 0 ? "***" : user.substring(0, colon) + ":***";
      return u.getScheme() + "://" + shown + "@" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort())
          + (u.getRawPath() == null ? "" : u.getRawPath());
    } catch (URISyntaxException e) {
      return "(unparsable Redis URL)";
    }
  }

  /** Whether the URL carries a password. */
  public static boolean hasPassword(String url) {
    try {
      String info = new URI(url).getRawUserInfo();
      return info != null && !info.isEmpty();
    } catch (URISyntaxException e) {
      return false;
    }
  }

  private static URI parse(String url) {
    try {
      URI u = new URI(url);
      if (u.getScheme() == null || u.getRawAuthority() == null) {
        throw new IllegalStateException("BERTH_REDIS_URL must look like redis://host:port");
      }
      return u;
    } catch (URISyntaxException e) {
      throw new IllegalStateException("BERTH_REDIS_URL is not a URL");
    }
  }
}
