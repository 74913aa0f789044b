/** What {@code /health} reports: Redis, Temporal, and Nginx as the worker that runs it last saw it. */
package io.berth.api.health;
