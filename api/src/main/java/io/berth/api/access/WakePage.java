package io.berth.api.access;

import io.micronaut.core.annotation.Nullable;
import java.security.SecureRandom;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;

/**
 * The owner's page on an address whose workspace is gone: what happened (the {@link GonePage}
 * story), then a new workspace started at once ({@code POST /.berth/wake}), its steps as they
 * happen, and the workspace itself when it is READY, without a click. A refusal (quota,
 * capacity) is shown with its wait and a button to try again. The script runs only from this
 * response (a nonce in the Content-Security-Policy) and talks only to its own origin.
 */
final class WakePage {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
      .withZone(ZoneOffset.UTC);

  private WakePage() {}

  /** A fresh nonce for one response's script. */
  static String nonce() {
    byte[] b = new byte[18];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  static String contentSecurityPolicy(String nonce) {
    return "default-src 'none'; script-src 'nonce-" + nonce + "'; style-src 'unsafe-inline'; connect-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  }

  static String html(GonePage.Story story, @Nullable String dashboardUrl, String nonce) {
    String when = story.at() == null ? ""
        : "<p>When: <time datetime=\"" + story.at() + "\">" + CLOCK.format(story.at()) + "</time></p>";
    String dashboard = dashboardUrl == null ? ""
        : "<p><a id=\"dashboard\" href=\"" + GonePage.escape(dashboardUrl) + "\">Open the dashboard</a></p>";
    return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
        <meta name="robots" content="noindex">
        <title>%1$s</title>
        <style>body{font-family:system-ui,sans-serif;margin:3rem auto;max-width:40rem;color:#223}
        #steps{padding-left:1.2rem}#steps li{margin:.2rem 0}#steps .detail{color:#667;margin-left:.5rem}
        #retry{padding:.6rem 1rem;background:#2454c5;color:#fff;border:0;border-radius:.3rem;font:inherit}
        #retry:disabled{background:#8a9bc4}</style></head>
        <body><h1 id="headline">%1$s</h1>
        <p id="detail">%2$s</p>
        %3$s
        <h2>A new workspace</h2>
        <p id="wake-status" role="status" aria-live="polite">Starting a new workspace…</p>
        <ol id="steps"></ol>
        <p><button id="retry" type="button" hidden>Try again</button></p>
        %4$s
        <script nonce="%5$s">%6$s</script>
        </body></html>
        """.formatted(GonePage.escape(story.headline()), GonePage.escape(story.detail()), when, dashboard, nonce,
        SCRIPT);
  }

  /**
   * Starts the wake once (a prerendered page waits until it is shown), follows the new run's
   * steps, and enters when READY. The old run's steps are not shown: only a run on its way is.
   */
  private static final String SCRIPT = """
      (() => {
        const NAMES = { claim: 'Claim a warm spare', capacity: 'Wait for capacity', probe: 'Check that it answers',
          tag: 'Tag it as yours', protect: 'Protect its host from scale-in', dns: 'DNS record',
          route: 'Route it through the gateway', session: 'Session and heartbeat token', ready: 'Ready',
          rollback: 'Roll back' };
        const LIVE = ['ALLOCATING', 'PROVISIONING', 'READY'];
        const status = document.getElementById('wake-status');
        const list = document.getElementById('steps');
        const retry = document.getElementById('retry');
        let run = 0;
        let posted = false;
        let entering = false;
        let countdown = null;
        const say = (text) => { status.textContent = text; };
        const stop = () => { run++; };
        const render = (s) => {
          if (!LIVE.includes(s.state)) return;
          list.replaceChildren(...(s.steps || []).filter((x) => NAMES[x.step]).map((x) => {
            const li = document.createElement('li');
            li.dataset.step = x.step;
            li.textContent = NAMES[x.step];
            if (x.detail) {
              const d = document.createElement('span');
              d.className = 'detail';
              d.textContent = x.detail;
              li.append(d);
            }
            return li;
          }));
          say(s.state === 'READY' ? 'Ready: opening your workspace…' : 'Starting your workspace…');
        };
        const go = () => { stop(); say('Ready: opening your workspace…'); location.replace('/'); };
        const offer = (wait) => {
          clearInterval(countdown);
          retry.hidden = false;
          let left = wait;
          retry.disabled = left > 0;
          retry.textContent = left > 0 ? 'Try again in ' + left + ' s' : 'Try again';
          if (left > 0) {
            countdown = setInterval(() => {
              left--;
              retry.disabled = left > 0;
              retry.textContent = left > 0 ? 'Try again in ' + left + ' s' : 'Try again';
              if (left <= 0) clearInterval(countdown);
            }, 1000);
          }
        };
        const refused = async (r) => {
          stop();
          let message = 'The workspace cannot be started right now.';
          try { message = (await r.json()).message || message; } catch (e) { /* not JSON */ }
          const wait = parseInt(r.headers.get('Retry-After') || '0', 10) || 0;
          say(message + (wait > 0 ? ' (wait ' + wait + ' s)' : ''));
          if (r.status === 401 || r.status === 403) {
            retry.hidden = true;
          } else {
            offer(wait);
          }
        };
        const enter = async () => {
          if (entering) return;
          entering = true;
          try {
            const r = await fetch('/.berth/wake/enter', { method: 'POST', credentials: 'same-origin', cache: 'no-store' });
            if (r.ok) go();
          } catch (e) { /* the next poll tries again */ }
          entering = false;
        };
        const poll = async (mine) => {
          if (mine !== run) return;
          try {
            const r = await fetch('/.berth/wake/status', { credentials: 'same-origin', cache: 'no-store' });
            if (r.ok && mine === run) {
              const s = await r.json();
              render(s);
              if (s.state === 'READY') await enter();
              else if (posted && s.state === 'FAILED') {
                stop();
                say('The workspace could not be started' + (s.reason ? ': ' + s.reason : '.'));
                offer(0);
                return;
              }
            }
          } catch (e) { /* a hiccup: the next poll */ }
          if (mine === run) setTimeout(() => poll(mine), 400);
        };
        const wake = async () => {
          const mine = ++run;
          posted = false;
          retry.hidden = true;
          list.replaceChildren();
          say('Starting a new workspace…');
          setTimeout(() => poll(mine), 300);
          try {
            const r = await fetch('/.berth/wake', { method: 'POST', credentials: 'same-origin', cache: 'no-store' });
            if (mine !== run) return;
            if (r.status === 200 || r.status === 202) {
              const s = await r.json();
              posted = true;
              render(s);
              if (s.entered) go();
              else if (s.state === 'READY') await enter();
              return;
            }
            await refused(r);
          } catch (e) {
            stop();
            say('Berth could not be reached.');
            offer(0);
          }
        };
        retry.addEventListener('click', wake);
        if (document.prerendering) {
          document.addEventListener('prerenderingchange', wake, { once: true });
        } else {
          wake();
        }
      })();
      """;
}
