package io.berth.workflows.model;

/** A slot a claim holds while no owner is tagged on it: the request and the user whose workflow made it. */
public record ClaimedSlot(String slotId, String requestId, String user) {}
