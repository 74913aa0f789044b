package io.berth.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The slots' heartbeat tokens, one root-only file per slot ({@code <dir>/slot-<i>.json}, mode 600,
 * in a mode-700 directory), read back when the agent starts: a restarted agent keeps relaying
 * heartbeats without the worker handing the token over again. {@code /run} is a tmpfs, so a
 * reboot forgets them, as the recycle after it would.
 */
final class TokenStore {
  private final Path dir;
  private final Map<Integer, Credentials> slots = new ConcurrentHashMap<>();

  TokenStore(Path dir, int slotCount) throws IOException {
    this.dir = dir;
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    for (int slot = 0; slot < slotCount; slot++) {
      load(slot);
    }
  }

  Optional<Credentials> get(int slot) {
    return Optional.ofNullable(slots.get(slot));
  }

  /** Written to a new mode-600 file, then renamed over the old one: a reader never sees half a token. */
  synchronized void put(Credentials c) throws IOException {
    Path tmp = Files.createTempFile(dir, "slot-" + c.slot() + "-", ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.writeString(tmp, c.json(), StandardCharsets.UTF_8);
      Files.move(tmp, file(c.slot()), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    slots.put(c.slot(), c);
  }

  /** Forgets the slot's token; false when there was none. */
  synchronized boolean remove(int slot) throws IOException {
    boolean had = slots.remove(slot) != null;
    return Files.deleteIfExists(file(slot)) || had;
  }

  /** Forgets the token only if it is still this one: a 401 for an old token must not drop a newer one. */
  synchronized boolean removeIf(int slot, String token) throws IOException {
    Credentials c = slots.get(slot);
    return c != null && c.token().equals(token) && remove(slot);
  }

  private void load(int slot) throws IOException {
    Path f = file(slot);
    if (!Files.isRegularFile(f)) {
      return;
    }
    Map<String, String> fields = Json.fields(Files.readString(f, StandardCharsets.UTF_8));
    if (fields.containsKey("user") && fields.containsKey("token")) {
      slots.put(slot, new Credentials(slot, fields.get("user"), fields.get("token")));
      Log.info("slot " + slot + ": kept the token of " + fields.get("user") + " from " + f);
    } else {
      Log.warn("slot " + slot + ": " + f + " holds no token; ignored");
    }
  }

  Path file(int slot) {
    return dir.resolve("slot-" + slot + ".json");
  }
}
