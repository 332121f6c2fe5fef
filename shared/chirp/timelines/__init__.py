"""Home timelines: hybrid fan-out, reads, rebuilds, and the consistency auditor."""
