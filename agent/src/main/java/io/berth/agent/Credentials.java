package io.berth.agent;

/** What the worker handed over for a slot. {@link #toString} leaves the token out, so no log can carry it. */
record Credentials(int slot, String user, String token) {
  String json() {
    return "{\"slot\":" + slot + ",\"user\":" + Json.string(user) + ",\"token\":" + Json.string(token) + "}";
  }

  @Override
  public String toString() {
    return "Credentials[slot=" + slot + ", user=" + user + "]";
  }
}
