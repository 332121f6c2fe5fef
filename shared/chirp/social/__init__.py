"""Profiles and the social graph: follows, blocks, mutes."""
