"""Rate limits: per user (or client IP) and endpoint class, counted atomically on Redis's own clock (GCRA)."""
