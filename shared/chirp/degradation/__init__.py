"""Degradation levels: what Chirp switches off, in order, when it is overloaded; the automatic controller that
sets the level from live signals; the operator's manual override."""
