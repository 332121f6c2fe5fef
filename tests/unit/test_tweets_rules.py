"""The tweet rules (chirp.tweets.service, chirp.tweets.text) on in-memory fakes: posting through the outbox,
replies and quotes, the relay, reading and deleting."""

from __future__ import annotations

import pytest

from chirp.errors import Conflict, Forbidden, InvalidInput, NotFound, Unprocessable
from chirp.ids.snowflake import snowflake_at, snowflake_timestamp_ms
from chirp.tweets.model import Tweet
from chirp.tweets.service import OUTBOX_GRACE_MS
from chirp.tweets.text import MAX_CHARS, InvalidText, hashtags, mentions, normalize_text
from tests.unit.fakes import World


@pytest.fixture
def world() -> World:
    world = World()
    world.users("ann", "bob")
    world.live("ann")
    return world


def tweets_count(world: World, user_id: str) -> int:
    return world.social_store.get_profile(user_id).tweets_count


# --- posting ----------------------------------------------------------------------------------------------


def test_given_a_profile_when_posting_then_the_tweet_is_stored_counted_and_published_in_two_calls(world):
    tweet = world.tweets.post("ann", "  Hello #Chirp and #chirp, @Bob and @bob!  ")

    assert tweet.author_id == "ann"
    assert tweet.text == "Hello #Chirp and #chirp, @Bob and @bob!"
    assert tweet.hashtags == ["chirp"]
    assert tweet.mentions == ["bob"]
    assert tweet.created_at_ms == world.clock()
    assert snowflake_timestamp_ms(tweet.tweet_id) == world.clock()  # an id issued now
    assert (tweet.reply_to_id, tweet.quote_tweet_id, tweet.deleted) == (None, None, False)
    assert world.tweet_store.get(tweet.tweet_id) == tweet
    assert world.publisher.published == [tweet]
    assert tweets_count(world, "ann") == 1
    # Two calls: one store write (tweet, outbox mark and count: one transaction) and the publish. The outbox mark
    # stays until the fan-out consumer confirms it.
    assert (world.tweet_store.creates, len(world.publisher.published)) == (1, 1)
    assert world.tweet_store.pending == {tweet.tweet_id}


def test_given_a_posted_tweet_when_the_consumer_confirms_it_then_the_relay_does_not_publish_it_again(world):
    tweet = world.tweets.post("ann", "hello")
    world.tweet_store.mark_published(tweet.tweet_id)
    world.tweet_store.mark_published(tweet.tweet_id)  # records come at least once

    world.clock.advance(OUTBOX_GRACE_MS)
    assert world.tweets.relay_outbox() == 0
    assert world.publisher.published == [tweet]


def test_given_a_posted_tweet_never_confirmed_when_the_grace_has_passed_then_the_relay_publishes_it(world):
    tweet = world.tweets.post("ann", "hello")  # published, but no consumer confirmed it (a lost record)
    world.clock.advance(OUTBOX_GRACE_MS)
    assert world.tweets.relay_outbox() == 1
    assert world.publisher.published == [tweet, tweet]
    assert world.tweet_store.pending == set()


def test_given_no_profile_when_posting_then_it_is_forbidden_and_nothing_is_stored(world):
    with pytest.raises(Forbidden, match=r"^create your profile \(POST /users\) before posting$"):
        world.tweets.post("ghost", "hello")
    assert world.tweet_store.tweets == {}
    assert world.tweet_store.pending == set()
    assert world.publisher.published == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "^text must not be empty$"),
        ("   ", "^text must not be empty$"),
        ("x" * (MAX_CHARS + 1), "^text is 281 characters"),
        ("bell\x07", "^text must not contain control character U\\+0007$"),
    ],
)
def test_given_invalid_text_when_posting_then_it_is_refused(world, text, reason):
    with pytest.raises(InvalidText, match=reason):
        world.tweets.post("ann", text)
    assert world.tweet_store.tweets == {}


@pytest.mark.parametrize("field", ["reply_to_id", "quote_tweet_id"])
def test_given_a_reply_or_quote_of_a_live_tweet_when_posting_then_it_refers_to_it(world, field):
    parent = world.tweets.post("bob", "original")
    tweet = world.tweets.post("ann", "answer", **{field: parent.tweet_id})
    assert getattr(tweet, field) == parent.tweet_id
    assert world.tweet_store.get(tweet.tweet_id) == tweet


@pytest.mark.parametrize(("parent_author", "quote"), [("bob", False), ("ann", False), ("bob", True)])
def test_given_a_reply_when_posting_then_it_keeps_its_parents_author_and_a_quote_keeps_none(
    world, parent_author, quote
):
    world.users("cat")
    parent = world.tweets.post(parent_author, "original")
    quoted = world.tweets.post("cat", "quoted")

    reply = world.tweets.post("ann", "answer", reply_to_id=parent.tweet_id, quote_tweet_id=quoted.tweet_id)
    quote_only = world.tweets.post("ann", "look", quote_tweet_id=quoted.tweet_id) if quote else None

    assert reply.reply_to_author_id == parent_author
    assert world.tweet_store.get(reply.tweet_id).reply_to_author_id == parent_author
    assert quote_only is None or quote_only.reply_to_author_id is None


def test_given_a_reply_to_a_retweet_when_posting_then_it_keeps_the_originals_author(world):
    world.users("cat")
    original = world.tweets.post("bob", "original")
    retweet = world.engagement.retweet("cat", original.tweet_id)

    reply = world.tweets.post("ann", "answer", reply_to_id=retweet.tweet_id)

    assert (reply.reply_to_id, reply.reply_to_author_id) == (original.tweet_id, "bob")


@pytest.mark.parametrize("field", ["reply_to_id", "quote_tweet_id"])
def test_given_a_missing_tweet_when_replying_or_quoting_then_unprocessable_and_nothing_stored(world, field):
    with pytest.raises(Unprocessable, match=f"^{field} 12345 does not exist$"):
        world.tweets.post("ann", "answer", **{field: 12345})
    assert world.tweet_store.tweets == {}
    assert tweets_count(world, "ann") == 0


@pytest.mark.parametrize("field", ["reply_to_id", "quote_tweet_id"])
def test_given_a_deleted_tweet_when_replying_or_quoting_then_unprocessable(world, field):
    parent = world.tweets.post("bob", "original")
    world.tweets.delete("bob", parent.tweet_id)
    with pytest.raises(Unprocessable, match=field):
        world.tweets.post("ann", "answer", **{field: parent.tweet_id})


def test_given_a_reply_that_quotes_a_missing_tweet_when_posting_then_the_quote_is_named(world):
    parent = world.tweets.post("bob", "original")
    with pytest.raises(Unprocessable, match=r"^quote_tweet_id 7 does not exist$"):
        world.tweets.post("ann", "answer", reply_to_id=parent.tweet_id, quote_tweet_id=7)


# --- the outbox -------------------------------------------------------------------------------------------


def test_given_a_publish_that_fails_when_posting_then_the_tweet_stays_pending_for_the_relay(world):
    world.publisher.fail_next = True
    with pytest.raises(ConnectionError):
        world.tweets.post("ann", "hello")
    (pending,) = world.tweet_store.pending
    assert world.publisher.published == []

    world.clock.advance(OUTBOX_GRACE_MS)
    assert world.tweets.relay_outbox() == 1

    assert [t.tweet_id for t in world.publisher.published] == [pending]
    assert world.tweet_store.pending == set()
    assert world.tweets.relay_outbox() == 0  # published once


def test_given_pending_tweets_when_relayed_then_only_those_older_than_the_grace_are_published(world):
    world.publisher.fail_next = True
    with pytest.raises(ConnectionError):
        world.tweets.post("ann", "old")
    world.clock.advance(1)
    world.publisher.fail_next = True
    with pytest.raises(ConnectionError):
        world.tweets.post("ann", "young")
    old, young = sorted(world.tweet_store.pending)

    world.clock.advance(OUTBOX_GRACE_MS - 1)  # old is exactly the grace old, young one ms less
    assert world.tweets.relay_outbox() == 1
    assert [t.tweet_id for t in world.publisher.published] == [old]
    assert world.tweet_store.pending == {young}

    world.clock.advance(1)
    assert world.tweets.relay_outbox() == 1
    assert world.tweet_store.pending == set()


def test_given_a_grace_when_relaying_then_it_is_measured_from_the_tweets_id(world):
    world.publisher.fail_next = True
    with pytest.raises(ConnectionError):
        world.tweets.post("ann", "hello")
    world.clock.advance(100)
    assert world.tweets.relay_outbox(grace_ms=101) == 0
    assert world.tweets.relay_outbox(grace_ms=100) == 1


def test_given_pending_tweets_listed_shard_by_shard_when_relayed_then_a_young_one_does_not_stop_the_relay(world):
    old = Tweet(tweet_id=snowflake_at(world.clock(), 7), author_id="ann", text="old", created_at_ms=world.clock())
    world.clock.advance(OUTBOX_GRACE_MS)
    young = Tweet(tweet_id=snowflake_at(world.clock(), 8), author_id="ann", text="young", created_at_ms=world.clock())
    another = old.model_copy(update={"tweet_id": old.tweet_id + 8, "text": "another"})
    for tweet in (old, young, another):
        world.tweet_store.create(tweet)
    assert list(world.tweet_store.pending_ids()) == [young.tweet_id, old.tweet_id, another.tweet_id]

    assert world.tweets.relay_outbox() == 2

    assert world.publisher.published == [old, another]
    assert world.tweet_store.pending == {young.tweet_id}


def test_given_a_pending_id_whose_tweet_is_gone_when_relayed_then_it_is_skipped(world):
    world.tweet_store.pending.add(world.ids.next_id())
    world.clock.advance(OUTBOX_GRACE_MS)
    assert world.tweets.relay_outbox() == 0
    assert world.publisher.published == []


# --- reading and deleting ---------------------------------------------------------------------------------


def test_given_tweets_when_read_then_live_ones_are_found_and_deleted_or_missing_ones_not(world):
    tweet = world.tweets.post("ann", "hello")
    assert world.tweets.get(tweet.tweet_id) == tweet
    with pytest.raises(NotFound, match=r"^tweet 42 not found$"):
        world.tweets.get(42)
    world.tweets.delete("ann", tweet.tweet_id)
    with pytest.raises(NotFound):
        world.tweets.get(tweet.tweet_id)


def test_given_someone_elses_tweet_when_deleting_then_it_is_forbidden_and_kept(world):
    tweet = world.tweets.post("ann", "hello")
    with pytest.raises(Forbidden, match=r"^only the author can delete a tweet$"):
        world.tweets.delete("bob", tweet.tweet_id)
    assert not world.tweet_store.get(tweet.tweet_id).deleted
    assert tweets_count(world, "ann") == 1


def test_given_ones_own_tweet_when_deleting_then_it_is_gone_counted_and_announced(world):
    tweet = world.tweets.post("ann", "hello")
    world.timelines.fan_out(tweet)
    assert world.cache.ids("ann") == [tweet.tweet_id]

    world.tweets.delete("ann", tweet.tweet_id)

    assert world.tweet_store.get(tweet.tweet_id).deleted
    assert tweets_count(world, "ann") == 0
    assert world.cache.ids("ann") == []
    assert world.publisher.published[-1] == tweet.model_copy(update={"deleted": True})
    world.tweets.delete("ann", tweet.tweet_id)  # the author's retry: announced again, counted once
    assert tweets_count(world, "ann") == 0
    assert world.publisher.published[-2:] == [tweet.model_copy(update={"deleted": True})] * 2
    with pytest.raises(NotFound):  # to anyone else a deleted tweet does not exist
        world.tweets.delete("bob", tweet.tweet_id)


def test_given_redis_failing_during_a_delete_when_the_author_retries_then_the_deletion_completes(world):
    tweet = world.tweets.post("ann", "hello")
    world.timelines.fan_out(tweet)
    real_remove = world.cache.remove

    def redis_down(*_):
        raise ConnectionError("redis down")

    world.cache.remove = redis_down
    with pytest.raises(ConnectionError):
        world.tweets.delete("ann", tweet.tweet_id)
    assert world.tweet_store.get(tweet.tweet_id).deleted  # durable first
    assert world.publisher.published[-1].deleted  # and announced: the consumers finish the job

    world.cache.remove = real_remove
    world.tweets.delete("ann", tweet.tweet_id)

    assert world.cache.ids("ann") == []
    assert tweets_count(world, "ann") == 0


def test_given_a_delete_that_lost_a_race_when_deleting_then_the_count_moves_once(world):
    tweet = world.tweets.post("ann", "hello")
    world.tweet_store.mark_deleted(tweet.tweet_id, "ann")  # another delete got there first
    world.tweet_store.tweets[tweet.tweet_id] = tweet  # ...after this one read it live
    world.tweet_store.mark_deleted = lambda tweet_id, author_id: False

    world.tweets.delete("ann", tweet.tweet_id)

    assert tweets_count(world, "ann") == 1  # the other delete moves it
    assert world.publisher.published[-1].deleted


def test_given_an_authors_tweets_when_paged_then_newest_first_with_cursors(world):
    posted = [world.tweets.post("ann", f"tweet {i}") for i in range(3)]
    world.tweets.delete("ann", posted[1].tweet_id)

    first, cursor = world.tweets.user_timeline("ann", cursor=None, limit=2)
    rest, end = world.tweets.user_timeline("ann", cursor=cursor, limit=2)

    assert [t.text for t in first + rest] == ["tweet 2", "tweet 0"]
    assert end is None
    with pytest.raises(NotFound, match=r"^user ghost not found$"):
        world.tweets.user_timeline("ghost", cursor=None, limit=2)
    with pytest.raises(InvalidInput, match="limit"):
        world.tweets.user_timeline("ann", cursor=None, limit=0)


def test_given_an_authors_tweets_when_paged_below_an_id_then_the_newest_below_it_by_that_author_only(world):
    # Mastodon's max_id paging: a page below a tweet id, not after this API's cursor.
    posted = [world.tweets.post("ann", f"tweet {i}") for i in range(5)]
    world.tweets.post("bob", "not ann's")

    page, _ = world.tweets.user_timeline("ann", cursor=None, limit=2, before_id=posted[3].tweet_id)

    assert [t.text for t in page] == ["tweet 2", "tweet 1"]


# --- text -------------------------------------------------------------------------------------------------


def test_given_exactly_the_maximum_when_normalized_then_it_is_kept_and_one_more_is_refused():
    assert normalize_text("x" * MAX_CHARS) == "x" * MAX_CHARS
    with pytest.raises(InvalidText, match=f"^text is {MAX_CHARS + 1} characters; at most {MAX_CHARS} are allowed$"):
        normalize_text("x" * (MAX_CHARS + 1))


def test_given_one_visible_character_when_normalized_then_it_is_kept():
    assert normalize_text(" a ") == "a"


def test_given_tags_and_mentions_in_upper_case_when_extracted_then_lower_cased():
    assert hashtags("#ABC #Abc #def") == ["abc", "def"]
    assert mentions("@ABC @Abc @def") == ["abc", "def"]


def test_given_a_tweet_when_serialized_then_its_ids_are_strings_too_and_never_stored_as_fields():
    from chirp.tweets.model import STRING_IDS, Tweet

    tweet = Tweet(tweet_id=2**62 + 1, author_id="a", text="t", created_at_ms=0, reply_to_id=2**62)
    dumped = tweet.model_dump()
    assert (dumped["tweet_id_str"], dumped["reply_to_id_str"], dumped["quote_tweet_id_str"]) == (
        str(2**62 + 1),
        str(2**62),
        None,
    )
    assert Tweet.model_validate_json(tweet.model_dump_json()) == tweet  # read back, the strings are derived again
    assert STRING_IDS.isdisjoint(Tweet.model_fields)


def _processed(world, owner: str = "ann", status: str = "ready", content_type: str = "image/png") -> str:
    """An upload issued to `owner` and transcoded with this outcome."""
    from chirp.media.model import Source, TranscodeResult, Variant

    media_id = world.media.presign_upload(owner, content_type, 100).media_id
    ready = status == "ready"
    world.media_store.record_result(
        TranscodeResult(
            media_id=media_id,
            owner=owner,
            status=status,
            reason=None if ready else "not a valid image",
            source=Source(format=content_type, width=800, height=600, size_bytes=100) if ready else None,
            variants={"thumb": Variant(key=f"media/{media_id}/thumb.webp", width=320, height=240, size_bytes=9)}
            if ready
            else {},
        )
    )
    return media_id


def test_given_the_authors_processed_images_when_posting_then_the_tweet_carries_and_claims_them(world):
    ids = [_processed(world) for _ in range(4)]
    tweet = world.tweets.post("ann", "four pictures", media_ids=[*ids, ids[0]])  # a repeat counts once
    assert tweet.media_ids == ids
    assert world.tweet_store.get(tweet.tweet_id).media_ids == ids
    assert {world.media_store.records[m].tweet_id for m in ids} == {tweet.tweet_id}
    assert {world.media_store.expires_at[m] for m in ids} == {None}  # attached: no longer forgotten after a day


def _issued_not_uploaded(world) -> str:
    return world.media.presign_upload("ann", "image/png", 100).media_id


def _attached(world) -> str:
    media_id = _processed(world)
    world.tweets.post("ann", "first", media_ids=[media_id])
    return media_id


@pytest.mark.parametrize(
    ("arrange", "error", "says"),
    [
        (lambda w: [_processed(w) for _ in range(5)], InvalidInput, "at most 4"),
        (lambda w: ["a" * 32], Unprocessable, "does not exist"),  # never issued
        (lambda w: ["not-an-id"], InvalidInput, "not a media id"),
        (_issued_not_uploaded, Unprocessable, "still processing"),
        (lambda w: [_processed(w, owner="bob")], Forbidden, "belongs to another user"),
        (lambda w: [_processed(w, status="rejected")], Unprocessable, "rejected: not a valid image"),
        (_attached, Conflict, "attached to tweet"),
        (lambda w: [_processed(w, content_type="image/gif"), _processed(w)], InvalidInput, "attached alone"),
    ],
)
def test_given_media_that_cannot_be_attached_when_posting_then_refused_naming_the_id_and_nothing_stored(
    world, arrange, error, says
):
    given = arrange(world)
    media_ids = given if isinstance(given, list) else [given]
    published_before = list(world.publisher.published)
    with pytest.raises(error, match=says) as refused:
        world.tweets.post("ann", "pictures", media_ids=media_ids)
    if len(media_ids) <= 4:  # a refusal of one medium names it
        assert any(m in str(refused.value) for m in media_ids)
    assert world.publisher.published == published_before


def test_given_two_posts_racing_for_one_medium_when_the_second_writes_then_409_and_nothing_stored(world, monkeypatch):
    # Given both posts checked the medium before either was written
    media_id = _processed(world)
    checked = world.media.attachable("ann", [media_id])
    first = world.tweets.post("ann", "first", media_ids=[media_id])
    monkeypatch.setattr(world.media, "prepare", lambda owner, media_ids: checked)
    published = list(world.publisher.published)

    # When the second is written, then its write's own condition refuses it, naming the medium
    with pytest.raises(Conflict, match=media_id):
        world.tweets.post("ann", "second", media_ids=[media_id])

    # And nothing of it is stored, counted or published; the medium stays the first tweet's
    assert world.media_store.records[media_id].tweet_id == first.tweet_id
    assert world.social_store.get_profile("ann").tweets_count == 1
    assert world.publisher.published == published


def test_given_a_user_without_a_profile_when_posting_with_media_then_refused_and_the_media_not_claimed(world):
    media_id = _processed(world, owner="zed")  # uploads need no profile; posting does
    with pytest.raises(Forbidden):
        world.tweets.post("zed", "a picture", media_ids=[media_id])
    assert world.media_store.records[media_id].tweet_id is None  # still attachable once the profile exists


def test_given_the_tweet_write_failing_when_posting_with_media_then_the_media_stay_attachable(world, monkeypatch):
    # Given a processed medium, and a tweet store that is down
    media_id = _processed(world)

    def store_down(tweet):
        raise ConnectionError("DynamoDB unreachable")

    monkeypatch.setattr(world.tweet_store, "create", store_down)

    # When the post fails, then the medium is attached to no tweet: the claim is part of the tweet's write
    with pytest.raises(ConnectionError):
        world.tweets.post("ann", "a picture", media_ids=[media_id])
    assert world.media_store.records[media_id].tweet_id is None
    assert world.media.attachable("ann", [media_id]) == [media_id]
