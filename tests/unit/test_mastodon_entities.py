"""Chirp's models as Mastodon's entities: every shape valid against Mastodon's OpenAPI document, ids as strings,
times in ISO 8601, text as safe HTML."""

from __future__ import annotations

from datetime import datetime

import pytest

from chirp.engagement.model import TweetView
from chirp.markers.model import Marker
from chirp.mastodon import entities
from chirp.media.model import Source, TranscodeResult, Variant
from chirp.notifications.model import Notification
from chirp.oauth.model import ClientApp, IssuedToken
from chirp.social.model import Profile
from chirp.trends.rules import Trend
from chirp.tweets.model import Tweet
from tests.mastodon_openapi import entity_errors

BASE = "https://social.example.com"
BIG_ID = 2**62 + 12345  # beyond 2**53: a JavaScript number would round it
ALICE = Profile(
    user_id="u-alice", handle="alice", display_name="Alice <3", followers_count=2, created_at_ms=1_700_000_000_000
)
BOB = Profile(user_id="u-bob", handle="Bob_1", display_name="Bob", created_at_ms=1_700_000_000_000)


def _tweet(**fields) -> Tweet:
    return Tweet(
        **{"tweet_id": BIG_ID, "author_id": "u-alice", "text": "hi", "created_at_ms": 1_700_000_123_456, **fields}
    )


def test_given_a_profile_when_mapped_then_it_is_a_mastodon_account_with_a_string_id():
    account = entities.account(ALICE, BASE)
    assert entity_errors("Account", account) == []
    assert account["id"] == "u-alice"
    assert account["acct"] == account["username"] == "alice"
    assert account["url"] == f"{BASE}/@alice"
    assert account["followers_count"] == 2
    assert datetime.fromisoformat(account["created_at"]).timestamp() == 1_700_000_000


def test_given_the_caller_when_mapped_then_it_is_a_credential_account_with_its_source():
    account = entities.account(ALICE, BASE, credential=True)
    assert entity_errors("CredentialAccount", account) == []
    assert account["source"]["privacy"] == "public"


def test_given_a_tweet_when_mapped_then_it_is_a_status_with_string_ids_and_counts():
    tweet = TweetView(
        **_tweet(reply_to_id=BIG_ID - 1, hashtags=["chirp"]).model_dump(),
        like_count=5,
        retweet_count=2,
        reply_count=3,
        liked=True,
        bookmarked=True,
    )
    status = entities.status(tweet, ALICE, BASE, in_reply_to_account_id="u-bob")
    assert entity_errors("Status", status) == []
    assert status["id"] == str(BIG_ID)
    assert status["in_reply_to_id"] == str(BIG_ID - 1)
    assert status["in_reply_to_account_id"] == "u-bob"
    assert (status["replies_count"], status["favourites_count"], status["reblogs_count"]) == (3, 5, 2)
    assert (status["favourited"], status["reblogged"], status["bookmarked"]) == (True, False, True)
    assert status["created_at"] == "2023-11-14T22:15:23.456Z"
    assert status["tags"] == [{"name": "chirp", "url": f"{BASE}/tags/chirp"}]
    assert status["account"]["id"] == "u-alice"
    assert status["visibility"] == "public"
    assert "text" not in status  # only a deleted status answers its source


def test_given_a_plain_tweet_when_mapped_then_its_counts_are_zero_and_flags_false():
    status = entities.status(_tweet(), ALICE, BASE)
    assert (status["favourites_count"], status["reblogs_count"], status["favourited"]) == (0, 0, False)
    assert status["bookmarked"] is False


def test_given_a_retweet_when_mapped_then_it_is_a_reblog_of_its_own_id_showing_the_original():
    original = entities.status(TweetView(**_tweet(hashtags=["x"]).model_dump(), retweet_count=1), ALICE, BASE)
    reblog = entities.reblog(BIG_ID + 7, 1_700_000_999_000, BOB, original, BASE)
    assert entity_errors("Status", reblog) == []
    assert (reblog["id"], reblog["account"]["id"], reblog["content"]) == (str(BIG_ID + 7), "u-bob", "")
    assert reblog["reblog"]["id"] == str(BIG_ID)
    assert reblog["reblog"]["account"]["id"] == "u-alice"
    assert reblog["reblogs_count"] == 1
    assert reblog["tags"] == []


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("<script>alert(1)</script> & co", "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</p>"),
        ("one\ntwo\n\nthree", "<p>one<br />two</p><p>three</p>"),
        ("#Chirp rocks",
         f'<p><a href="{BASE}/tags/chirp" class="mention hashtag" rel="tag">#<span>Chirp</span></a> rocks</p>'),
        ("see https://example.org/a?b=1&c=2.",
         '<p>see <a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener" '
         'translate="no" target="_blank">https://example.org/a?b=1&amp;c=2</a>.</p>'),
        ("mail bob@example.org", "<p>mail bob@example.org</p>"),  # not a mention: after a word character
        ("@nobody hi", "<p>@nobody hi</p>"),  # an unknown handle stays text, as Mastodon leaves it
    ],
)  # fmt: skip
def test_given_text_when_rendered_then_it_is_escaped_html_with_links(text, html):
    assert entities.content_html(text, BASE) == html


def test_given_a_mention_of_a_known_account_when_mapped_then_it_links_and_is_listed():
    status = entities.status(_tweet(text="hey @bob_1", mentions=["bob_1"]), ALICE, BASE, mentioned=[BOB])
    assert entity_errors("Status", status) == []
    assert f'<a href="{BASE}/@Bob_1" class="u-url mention">@<span>Bob_1</span></a>' in status["content"]
    assert status["mentions"] == [{"id": "u-bob", "username": "Bob_1", "acct": "Bob_1", "url": f"{BASE}/@Bob_1"}]


def _ready(media_id: str) -> TranscodeResult:
    return TranscodeResult(
        media_id=media_id,
        owner="u-alice",
        status="ready",
        source=Source(format="image/png", width=4000, height=3000, size_bytes=1000),
        variants={
            "orig": Variant(key="k", width=4000, height=3000, size_bytes=10),
            "medium": Variant(key="k", width=680, height=510, size_bytes=10),
            "thumb": Variant(key="k", width=150, height=150, size_bytes=10),
        },
        blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
    )


def test_given_a_processed_upload_when_mapped_then_it_is_an_image_attachment_with_urls_and_sizes():
    media_id = "a" * 32
    urls = {name: f"https://s3.example/{name}.webp" for name in ("orig", "medium", "thumb")}
    attachment = entities.media_attachment(media_id, _ready(media_id), urls, "a cat")
    assert entity_errors("MediaAttachment", attachment) == []
    assert attachment["url"] == urls["orig"]
    assert attachment["preview_url"] == urls["medium"]
    assert attachment["meta"]["original"]["width"] == 4000
    assert attachment["meta"]["small"]["width"] == 680
    assert attachment["blurhash"] == "LEHV6nWB2yk8pyo0adR*.7kCMdnj"
    assert attachment["description"] == "a cat"
    status = entities.status(_tweet(media_ids=[media_id]), ALICE, BASE, media=[attachment])
    assert entity_errors("Status", status) == []


def test_given_an_upload_in_processing_when_mapped_then_its_url_is_null():
    attachment = entities.media_attachment("b" * 32, None, {}, None)
    assert entity_errors("MediaAttachment", attachment) == []
    assert attachment["url"] is None


def test_given_edges_when_mapped_then_it_is_a_relationship():
    edges = {"FOLLOWS": True, "BLOCKS": False, "MUTES": True, "followed_by": False, "blocked_by": False}
    relationship = entities.relationship("u-bob", edges)
    assert entity_errors("Relationship", relationship) == []
    assert relationship["following"] is True
    assert relationship["muting"] is True


@pytest.mark.parametrize(
    ("kind", "mastodon_type"), [("mention", "mention"), ("reply", "mention"), ("follow", "follow")]
)
def test_given_a_notification_when_mapped_then_it_is_mastodons_with_a_string_id(kind, mastodon_type):
    item = Notification(id=BIG_ID, kind=kind, actor_id="u-bob", tweet_id=None, at_ms=1_700_000_000_000)
    status = entities.status(_tweet(), ALICE, BASE) if kind != "follow" else None
    notification = entities.notification(item, BOB, BASE, status)
    assert entity_errors("Notification", notification) == []
    assert notification["id"] == str(BIG_ID)
    assert notification["type"] == mastodon_type


def test_given_a_trend_when_mapped_then_it_is_a_tag_with_the_last_hours_accounts_as_todays_history():
    trend = Trend(hashtag="chirp", score=4.0, accounts_last_hour=7.2, expected_per_hour=2.0)
    tag = entities.trend_tag(trend, BASE, 1_700_000_000_000)
    assert entity_errors("Tag", tag) == []
    assert [h["accounts"] for h in tag["history"]] == ["7"]
    assert int(tag["history"][0]["day"]) % 86_400 == 0


def test_given_the_instance_when_described_then_clients_see_a_recent_mastodon_api():
    v1, v2 = entities.instance_v1(BASE, "social.example.com"), entities.instance_v2(BASE, "social.example.com")
    assert entity_errors("V1Instance", v1) == []
    assert entity_errors("Instance", v2) == []
    # Mastodon.py uses v2 search, media and trends only from 4.3.0, and loops without api_versions.
    assert tuple(int(p) for p in v2["version"].split()[0].split(".")) >= (4, 3, 0)
    assert v2["api_versions"] == {"mastodon": 2}
    assert v2["configuration"]["statuses"]["max_characters"] == 280


def test_given_a_streaming_domain_or_none_when_described_then_clients_are_sent_where_the_streaming_api_is():
    own = entities.instance_v1(BASE, "social.example.com")
    assert own["urls"]["streaming_api"] == "wss://social.example.com"  # locally: the host-root proxy tunnels it
    elsewhere = "wss://streaming.social.example.com"
    assert entities.instance_v1(BASE, "social.example.com", elsewhere)["urls"]["streaming_api"] == elsewhere
    v2 = entities.instance_v2(BASE, "social.example.com", elsewhere)
    assert v2["configuration"]["urls"]["streaming"] == elsewhere


def test_given_an_app_when_registered_then_its_secret_is_answered_once():
    app = ClientApp(
        client_id="cid",
        secret_hash="h",
        name="toot",
        redirect_uris=["urn:ietf:wg:oauth:2.0:oob"],
        scopes=["read"],
        created_at_ms=0,
    )
    registered = entities.application(app, secret="s3cret")
    assert entity_errors("CredentialApplication", registered) == []
    assert registered["client_secret"] == "s3cret"
    assert "client_secret" not in entities.application(app)
    token = entities.token(IssuedToken(access_token="t", scopes=["read", "write"], created_at_ms=1_700_000_000_000))
    assert entity_errors("Token", token) == []
    assert token == {"access_token": "t", "token_type": "Bearer", "scope": "read write", "created_at": 1_700_000_000}


def test_given_any_user_when_their_preferences_are_mapped_then_they_are_mastodons_preferences_all_public():
    preferences = entities.preferences()
    assert entity_errors("Preferences", preferences) == []
    assert preferences["posting:default:visibility"] == "public"
    assert preferences["reading:expand:spoilers"] is False


def test_given_a_marker_when_mapped_then_it_is_mastodons_marker_with_a_string_id():
    marker = Marker(timeline="home", last_read_id=BIG_ID, version=3, updated_at_ms=1_700_000_123_456)
    entity = entities.marker(marker)
    assert entity_errors("Marker", entity) == []
    assert entity == {"last_read_id": str(BIG_ID), "version": 3, "updated_at": "2023-11-14T22:15:23.456Z"}
