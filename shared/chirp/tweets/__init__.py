"""Tweets: posting (through the outbox), reading, deleting, and the text rules."""
