/**
 * Operators' calls (the admin role): the fleet's status, every workspace from the Redis read
 * model, a forced release, a workflow's history; and the rule that keeps Micronaut's sensitive
 * management endpoints to the same role.
 */
package io.berth.api.admin;
