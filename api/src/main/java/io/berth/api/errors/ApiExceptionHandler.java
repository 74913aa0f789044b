package io.berth.api.errors;

import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import jakarta.inject.Singleton;

@Singleton
public class ApiExceptionHandler implements ExceptionHandler<ApiException, HttpResponse<ApiError>> {

  @Override
  public HttpResponse<ApiError> handle(HttpRequest request, ApiException e) {
    // JSON whatever the route produces otherwise (the gateway's produce HTML too)
    MutableHttpResponse<ApiError> response = HttpResponse.<ApiError>status(e.status())
        .contentType(MediaType.APPLICATION_JSON_TYPE)
        .body(new ApiError(e.error(), e.getMessage()));
    if (e.retryAfter() != null) {
      response.header(HttpHeaders.RETRY_AFTER, String.valueOf(Math.max(1, (e.retryAfter().toMillis() + 999) / 1000)));
    }
    return response;
  }
}
