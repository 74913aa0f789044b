package io.berth.api.errors;

import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import jakarta.inject.Singleton;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.exceptions.JedisException;

/** Redis down or failing: 503 with Retry-After, like every other unavailable dependency. */
@Singleton
public class RedisErrorHandler implements ExceptionHandler<JedisException, HttpResponse<ApiError>> {
  private static final Logger log = LoggerFactory.getLogger(RedisErrorHandler.class);
  private final ApiExceptionHandler errors;

  public RedisErrorHandler(ApiExceptionHandler errors) {
    this.errors = errors;
  }

  @Override
  public HttpResponse<ApiError> handle(HttpRequest request, JedisException e) {
    log.warn("{} {}: Redis error {}", request.getMethod(), request.getPath(), e.toString());
    return errors.handle(request, ApiException.unavailable("the store is unavailable", Duration.ofSeconds(5)));
  }
}
