"""Chirp as Mastodon shows it: the entities (pure mapping of Chirp's models) and the views that gather what they
need, shared by the Mastodon REST API (functions/mastodon) and the pushes of the Mastodon streaming API."""
