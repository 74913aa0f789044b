package io.berth.workflows.model;

/** One step of an allocation, shown to the user while it comes up (and in the SSE stream). */
public record ProgressStep(String step, String status, long atMillis, String detail) {}
