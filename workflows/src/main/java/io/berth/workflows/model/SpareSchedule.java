package io.berth.workflows.model;

/**
 * A spare count that holds while {@code cron} matches. The cron has five fields (minute, hour,
 * day of month, month, day of week) and, as Coder's prebuild schedules, names hours of the week:
 * minute, day of month and month are {@code *}; hour and day of week take lists, ranges and steps.
 */
public record SpareSchedule(String name, String cron, int spares) {}
