package io.berth.api.access;

import io.berth.api.errors.ApiException;
import io.berth.workflows.Labels;
import io.micronaut.security.authentication.Authentication;

/**
 * The caller's user id: the JWT's {@code sub}, checked like any other input before it names
 * anything. No {@code #}: a named workspace's key is {@code <user>#<name>} (see {@code Labels}).
 */
public final class Users {
  private Users() {}

  public static String of(Authentication auth) {
    return checked(auth.getName());
  }

  public static String checked(String user) {
    if (!Labels.validUser(user)) {
      throw ApiException.badRequest("invalid user id: 1 to " + Labels.MAX_USER_LENGTH
          + " printable characters, no control characters, no '#' (it separates a user from a workspace name)");
    }
    return user;
  }
}
