package io.berth.workflows.model;

/** A slot as the fleet reports it: its owner tag (null when UNASSIGNED) and whether its process runs. */
public record SlotStatus(Slot slot, String owner, boolean alive) {}
