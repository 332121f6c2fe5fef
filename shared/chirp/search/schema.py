"""The tweets index's schema: its mapping and the external versions of a tweet's states. The deploy applies it
(functions/search_schema) whenever this module changes: the digest of this file is the deploy's input."""

from __future__ import annotations

import hashlib
from importlib import resources

TWEETS_INDEX = "tweets"
# Settings that can change on a live index. A tweet becomes searchable at the next refresh: every 200 ms keeps
# POST -> searchable under a second (the default 1 s alone took most of it).
DYNAMIC_SETTINGS = {"refresh_interval": "200ms"}

MAPPINGS = {
    "dynamic": "strict",  # a document with an unexpected field is an error, never a silent new mapping
    "properties": {
        "tweet_id": {"type": "long"},
        "author_id": {"type": "keyword"},
        "text": {"type": "text", "analyzer": "standard"},
        "hashtags": {"type": "keyword"},
        "mentions": {"type": "keyword"},
        "created_at_ms": {"type": "date", "format": "epoch_millis"},
        "reply_to_id": {"type": "long"},
        "quote_tweet_id": {"type": "long"},
        # The public timeline's only_media. Added to a live index by the deploy (put_mapping): tweets indexed before
        # carry none, so they match only once reindexed (`python -m chirp.cli reindex`).
        "has_media": {"type": "boolean"},
        # A reply to its own author's tweet, which the public timeline keeps. Added to a live index by the deploy;
        # known only for replies that keep their parent's author (Tweet.reply_to_author_id): older replies stay out
        # of the public timeline, as every reply did.
        "thread_reply": {"type": "boolean"},
        "deleted": {"type": "boolean"},
    },
}
# A tweet's states in the order they happen; the number is the document's external version. A deletion's
# is far above any version a document can reach otherwise (a document written without an external version
# counts up from 1 at each write), so a tombstone always wins.
LIVE_VERSION, DELETED_VERSION = 1, 2**62
# What OpenSearch answers when a write carries a version not above the stored one.
VERSION_CONFLICT = 409


def schema_digest() -> str:
    """The sha256 of this module, which holds the schema: the deploy passes the digest of the module it
    ships (infra: DeployTrigger inputs), so the schema function can tell a request for its own schema."""
    # Read through the loader, not from __file__: the domain layer is a zip (infra/bundling.py), where __file__
    # names the module's .pyc inside the archive, not a file.
    return hashlib.sha256(resources.files(__package__).joinpath("schema.py").read_bytes()).hexdigest()
