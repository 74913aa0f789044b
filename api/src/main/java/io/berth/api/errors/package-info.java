/**
 * Every answer other than success has the same JSON body, {@code {"error","message"}}
 * ({@link io.berth.api.errors.ApiError}): thrown as {@link io.berth.api.errors.ApiException} by
 * controllers and services, produced by Micronaut itself (routing, parsing, security), by a
 * request that breaks a constraint annotation, or by Redis failing.
 */
package io.berth.api.errors;
