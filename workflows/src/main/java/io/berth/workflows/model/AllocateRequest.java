package io.berth.workflows.model;

/** The {@code allocate} update's argument. */
public record AllocateRequest(String user, String template) {}
