"""The Mastodon client API: one Powertools Router per resource on Chirp's own services, the pure mapping of
Chirp's models to Mastodon's entities (entities.py), Mastodon's paging (paging.py) and its error shape.

Route modules do not use `from __future__ import annotations`, like Chirp's own API's.
"""
