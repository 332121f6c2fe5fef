"""Real Mastodon clients against the deployed Mastodon API (make dev): Mastodon.py in this process and the toot
CLI in its own, both through a recording proxy in front of the local host root (CHIRP_MASTODON_URL). They sign
in with a password, post (with an image), read home with paging, follow, search, read notifications and
upload; the last test replays every answer they got through Mastodon's OpenAPI document."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
from mastodon import Mastodon, MastodonUnauthorizedError
from PIL import Image

from localstack.api_client import PASSWORD
from tests.e2e.conftest import eventually
from tests.e2e.recording_proxy import RecordingProxy
from tests.mastodon_openapi import response_errors

SCOPES = ["read", "write", "follow", "push"]  # Mastodon.py's default: it checks the token has them all
TOOT = Path(sys.executable).parent / "toot"


@pytest.fixture(scope="module")
def proxy(cloud_env):
    with RecordingProxy(cloud_env["CHIRP_MASTODON_URL"]) as recording:
        yield recording


@pytest.fixture(scope="module")
def app(proxy) -> tuple[str, str]:
    return Mastodon.create_app("chirp-e2e", scopes=SCOPES, api_base_url=proxy.url, request_timeout=60)


def signed_in(proxy, app, user) -> Mastodon:
    client = Mastodon(client_id=app[0], client_secret=app[1], api_base_url=proxy.url, request_timeout=60)
    client.log_in(user.handle, PASSWORD, scopes=SCOPES, allow_http=True)  # the local host root is plain HTTP
    return client


@pytest.fixture(scope="module")
def alice(new_user):
    return new_user("ma")


@pytest.fixture(scope="module")
def bob(new_user):
    return new_user("mb")


@pytest.fixture(scope="module")
def alice_m(proxy, app, alice) -> Mastodon:
    return signed_in(proxy, app, alice)


@pytest.fixture(scope="module")
def bob_m(proxy, app, bob) -> Mastodon:
    return signed_in(proxy, app, bob)


def png(color: str = "red", size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def word() -> str:
    return f"w{uuid.uuid4().hex[:12]}"


# --- Mastodon.py ------------------------------------------------------------------------------------------


def test_given_mastodon_py_when_it_signs_in_with_a_password_then_it_sees_its_own_account(alice_m, alice, proxy):
    me = alice_m.account_verify_credentials()
    assert (me.id, me.username, me.acct) == (alice.user_id, alice.handle, alice.handle)
    assert alice_m.account(alice.user_id).username == alice.handle
    assert alice_m.account_lookup(alice.handle).id == alice.user_id
    domain = alice_m.instance_v2().domain  # the host the API answered for (the local host root's)
    assert alice_m.account_lookup(f"@{alice.handle}@{domain}").id == alice.user_id


def test_given_mastodon_py_when_it_posts_an_image_then_the_status_carries_its_webp_variants(alice_m, alice):
    media = alice_m.media_post(png(), mime_type="image/png", description="a red rectangle", synchronous=True)
    assert media.url is not None
    assert media.description == "a red rectangle"
    status = alice_m.status_post(f"look at this #redsquare {word()}", media_ids=[media])  # a form body
    attachment = status.media_attachments[0]
    assert (attachment.id, attachment.type, attachment.description) == (media.id, "image", "a red rectangle")
    assert attachment.meta.original.width == 64
    image = requests.get(alice_m.status(status.id).media_attachments[0].url, timeout=30)
    assert image.status_code == 200
    assert image.content[:4] == b"RIFF"  # WebP, made by the transcoder
    assert alice_m.media_update(media, description="a red square").description == "a red square"


def test_given_a_follow_when_alice_posts_then_bob_reads_home_page_by_page(alice_m, bob_m, alice, bob):
    relationship = bob_m.account_follow(alice.user_id)
    assert relationship.following is True
    (seen,) = alice_m.account_relationships([bob.user_id])
    assert seen.followed_by is True
    assert bob.user_id in [a.id for a in alice_m.account_followers(alice.user_id)]
    assert alice.user_id in [a.id for a in bob_m.account_following(bob.user_id)]
    posted = [alice_m.status_post(f"post {i} {word()}").id for i in range(5)]
    home = eventually(
        lambda: (ids := [s.id for s in bob_m.timeline_home(limit=40)]) and set(posted) <= set(ids) and ids
    )
    assert home, "alice's statuses never reached bob's home timeline"
    assert home == sorted(home, key=int, reverse=True)  # newest first
    first = bob_m.timeline_home(limit=2)
    assert [s.id for s in first] == home[:2]
    second = bob_m.fetch_next(first)  # follows the Link header's max_id
    assert [s.id for s in second] == home[2:4]
    assert [s.id for s in bob_m.timeline_home(min_id=home[4], limit=2)] == home[2:4]
    assert [s.id for s in bob_m.timeline_home(since_id=home[2], limit=5)] == home[:2]
    statuses = bob_m.account_statuses(alice.user_id, limit=3)
    assert [s.id for s in statuses] == [i for i in home if i in {s.id for s in statuses}][:3]
    assert [s.id for s in bob_m.fetch_next(statuses)][:1] != [s.id for s in statuses][:1]


def test_given_a_profile_when_its_media_and_tag_tabs_are_read_then_only_those_statuses(alice_m, bob_m, alice):
    """Mastodon's profile tabs: `only_media` (the statuses with media) and `tagged` (with the hashtag)."""
    # Given alice's statuses: one with an image, one with a hashtag, one plain; and bob's reblog of the first
    tag = f"tab{word()[1:9]}"
    media = alice_m.media_post(png("blue"), mime_type="image/png", synchronous=True)
    with_media = alice_m.status_post(f"a picture {word()}", media_ids=[media])
    tagged = alice_m.status_post(f"about #{tag} {word()}")
    plain = alice_m.status_post(f"just words {word()}")
    bob_m.status_reblog(with_media.id)

    # When each tab is read, then it holds only its own statuses (a reblog carries no media of its own)
    ids = {s.id for s in alice_m.account_statuses(alice.user_id, limit=40)}
    assert {with_media.id, tagged.id, plain.id} <= ids
    media_tab = [s.id for s in bob_m.account_statuses(alice.user_id, only_media=True, limit=40)]
    assert with_media.id in media_tab
    assert not {tagged.id, plain.id} & set(media_tab)
    assert all(s.media_attachments for s in bob_m.account_statuses(alice.user_id, only_media=True, limit=40))
    assert [s.id for s in bob_m.account_statuses(alice.user_id, tagged=tag.upper())] == [tagged.id]
    bob_tabs = bob_m.account_statuses(bob_m.me().id, only_media=True) + bob_m.account_statuses(
        bob_m.me().id, tagged=tag
    )
    assert bob_tabs == []


def test_given_a_thread_and_a_reply_when_replies_are_excluded_then_the_thread_stays(alice_m, bob_m, alice):
    """Mastodon's profile without replies (exclude_replies, its default tab) keeps an account's replies to itself."""
    # Given alice's thread (a status and her reply to it) and her reply to bob
    opener = alice_m.status_post(f"a thread {word()}")
    continued = alice_m.status_reply(opener, f"and more {word()}")
    elsewhere = alice_m.status_reply(bob_m.status_post(f"bob says {word()}"), f"alice answers {word()}")

    # When her statuses are read without replies, then the thread's reply stays and the reply to bob goes
    ids = [s.id for s in bob_m.account_statuses(alice.user_id, exclude_replies=True, limit=40)]
    assert {opener.id, continued.id} <= set(ids)
    assert elsewhere.id not in ids
    assert elsewhere.id in [s.id for s in bob_m.account_statuses(alice.user_id, limit=40)]


def test_given_a_reply_when_read_then_the_thread_counts_and_notifies(alice_m, bob_m, alice, bob):
    parent = alice_m.status_post(f"a question {word()}")
    reply = bob_m.status_reply(parent, f"an answer {word()}")  # mentions alice, as Mastodon.py writes replies
    assert reply.in_reply_to_id == parent.id
    assert reply.in_reply_to_account_id == alice.user_id
    assert [m.id for m in reply.mentions] == [alice.user_id]
    thread = eventually(lambda: alice_m.status_context(parent.id).descendants)
    assert [s.id for s in thread] == [reply.id]
    assert [s.id for s in bob_m.status_context(reply.id).ancestors] == [parent.id]
    assert eventually(lambda: alice_m.status(parent.id).replies_count == 1)
    notifications = eventually(lambda: [n for n in alice_m.notifications() if n.status and n.status.id == reply.id])
    assert notifications[0].type == "mention"
    assert notifications[0].account.id == bob.user_id
    assert any(n.type == "follow" and n.account.id == bob.user_id for n in alice_m.notifications(types=["follow"]))


def test_given_indexed_statuses_when_searched_then_words_hashtags_and_accounts_are_found(alice_m, bob_m, alice):
    unique = word()
    status = alice_m.status_post(f"searchable {unique} #findme{unique[1:6]}")
    found = eventually(lambda: bob_m.search_v2(unique, result_type="statuses").statuses)
    assert [s.id for s in found] == [status.id]
    tag = f"findme{unique[1:6]}"
    assert eventually(lambda: [s.id for s in bob_m.timeline_hashtag(tag)]) == [status.id]
    assert [t.name for t in bob_m.search_v2(f"#{tag}", result_type="hashtags").hashtags] == [tag]
    assert [a.id for a in bob_m.search_v2(f"@{alice.handle}", result_type="accounts").accounts] == [alice.user_id]
    assert isinstance(bob_m.trending_tags(), list)


def test_given_favourites_and_reblogs_when_made_then_counts_flags_notifications_and_home_show_them(
    alice_m, bob_m, alice, bob
):
    """Mastodon's favourites and reblogs are Chirp's likes and retweets (idempotent, counted, notified)."""
    # alice favourites and reblogs bob's status; bob follows alice (an earlier test), so her reblog reaches him.
    status = bob_m.status_post(f"worth sharing {word()}")
    liked = alice_m.status_favourite(status.id)
    assert (liked.id, liked.favourited, liked.favourites_count) == (status.id, True, 1)
    assert alice_m.status_favourite(status.id).favourites_count == 1  # twice is one favourite
    reblog = alice_m.status_reblog(status.id)
    assert reblog.id != status.id
    assert (reblog.account.id, reblog.reblog.id, reblog.reblog.reblogs_count) == (alice.user_id, status.id, 1)
    assert reblog.reblogged is True
    seen = bob_m.status(status.id)
    assert (seen.favourites_count, seen.reblogs_count, seen.favourited) == (1, 1, False)
    reblogged = eventually(lambda: [s for s in bob_m.timeline_home(limit=40) if s.reblog and s.reblog.id == status.id])
    assert reblogged[0].account.id == alice.user_id
    kinds = eventually(
        lambda: (
            (k := {n.type for n in bob_m.notifications() if n.status and n.status.id == status.id})
            >= {
                "favourite",
                "reblog",
            }
            and k
        )
    )
    assert {"favourite", "reblog"} <= kinds
    assert alice_m.status_unreblog(status.id).reblogs_count == 0
    unliked = alice_m.status_unfavourite(status.id)
    assert (unliked.favourited, unliked.favourites_count) == (False, 0)


def test_given_bookmarks_when_made_and_listed_then_mastodon_py_sees_them_flagged_and_paged(alice_m, bob_m):
    """Mastodon's bookmarks: the caller's alone, idempotent, newest first a page at a time, flagged on statuses."""
    # Given two statuses of bob's, bookmarked by alice (the first twice)
    first, second = (bob_m.status_post(f"read later {word()}") for _ in range(2))
    for status in (first, second, first):
        assert alice_m.status_bookmark(status.id).bookmarked is True

    # When listed, then newest first through the Link header, flagged for alice and for nobody else
    page = alice_m.bookmarks(limit=1)
    assert [(s.id, s.bookmarked) for s in page] == [(second.id, True)]
    assert [s.id for s in alice_m.fetch_next(page)] == [first.id]
    assert (alice_m.status(first.id).bookmarked, bob_m.status(first.id).bookmarked) == (True, False)
    assert bob_m.bookmarks() == []
    # And once removed (twice: the same answer), the bookmark is gone from the list
    for _ in range(2):
        assert alice_m.status_unbookmark(second.id).bookmarked is False
    assert [s.id for s in alice_m.bookmarks()] == [first.id]


def test_given_reading_positions_when_saved_then_mastodon_py_reads_them_back_versioned(proxy, alice_m, bob_m):
    """Mastodon's markers: where the reader stopped in home and notifications, saved as apps save them."""
    # Given a status on alice's home timeline
    status = alice_m.status_post(f"read up to here {word()}")

    # When alice saves her home position twice and her notifications' once
    alice_m.markers_set(["home"], [status.id])
    saved = alice_m.markers_set(["home", "notifications"], [status.id, "12345"])

    # Then each answers and reads back as saved, its version counting the saves; bob has none
    assert (saved.home.last_read_id, saved.home.version) == (str(status.id), 2)
    assert (saved.notifications.last_read_id, saved.notifications.version) == ("12345", 1)
    read = alice_m.markers_get(["home", "notifications"])
    assert (read.home.last_read_id, read.home.version, read.notifications.version) == (str(status.id), 2, 1)
    assert alice_m.markers_get(["home"]).keys() == {"home"}
    assert bob_m.markers_get(["home", "notifications"]) == {}
    # And a position that is no id is refused, naming it, with nothing saved
    refused = requests.post(
        f"{proxy.url}/api/v1/markers",
        headers={"Authorization": f"Bearer {alice_m.access_token}"},
        data={"home[last_read_id]": "latest"},
        timeout=60,
    )
    assert (refused.status_code, refused.json()["error"]) == (
        422,
        "home[last_read_id] must be a status or notification id",
    )
    assert alice_m.markers_get(["home"]).home.version == 2


def test_given_a_notifications_marker_when_more_arrive_then_the_unread_count_is_those_after_it(
    proxy, alice_m, bob_m, alice
):
    """Apps badge the notifications that came since the notifications marker: GET /api/v1/notifications/unread_count."""
    # Given alice has read her notifications up to her newest
    reply = bob_m.status_reply(alice_m.status_post(f"notice me {word()}"), f"noticed {word()}")  # mentions alice
    latest = eventually(
        lambda: (n := alice_m.notifications(limit=1)) and n[0].status and n[0].status.id == reply.id and n
    )
    alice_m.markers_set(["notifications"], [latest[0].id])
    assert alice_m.notifications_unread_count().count == 0

    # When bob mentions her twice more, then two are unread: both mentions, no follow
    for _ in range(2):
        bob_m.status_post(f"@{alice.handle} hello {word()}")
    assert eventually(lambda: alice_m.notifications_unread_count().count == 2)

    def counted(**query) -> int:
        headers = {"Authorization": f"Bearer {alice_m.access_token}"}
        answer = requests.get(
            f"{proxy.url}/api/v1/notifications/unread_count", params=query, headers=headers, timeout=60
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["count"]

    assert (counted(**{"types[]": "mention"}), counted(**{"types[]": "follow"}), counted(limit=1)) == (2, 0, 1)
    assert counted(**{"exclude_types[]": "mention"}) == 0


def test_given_likes_retweets_blocks_and_mutes_when_listed_then_mastodon_py_reads_and_pages_them(
    proxy, app, alice_m, bob_m, alice, new_user
):
    """Who favourited or reblogged a status, what the caller favourited, whom they block and mute: Chirp's likes,
    retweets, blocks and mutes, a page at a time through the Link header."""
    # Given two statuses of bob's, both favourited by alice and the second reblogged by her, and alice blocking
    # carol and muting dave
    first, second = (bob_m.status_post(f"pick me {word()}") for _ in range(2))
    for status in (first, second):
        alice_m.status_favourite(status.id)
    alice_m.status_reblog(second.id)
    carol, dave = new_user("mc"), new_user("md")
    alice_m.account_block(carol.user_id)
    alice_m.account_mute(dave.user_id)

    # When listed, then each names who did it (as accounts) or what was done (as statuses), newest first
    assert [a.id for a in bob_m.status_favourited_by(second.id)] == [alice.user_id]
    assert [a.id for a in bob_m.status_reblogged_by(second.id)] == [alice.user_id]
    assert bob_m.status_reblogged_by(first.id) == []
    page = alice_m.favourites(limit=1)
    assert [s.id for s in page] == [second.id]
    assert (page[0].favourited, page[0].reblogged) == (True, True)
    assert [s.id for s in alice_m.fetch_next(page)] == [first.id]  # the next page: the Link header's max_id
    assert [a.id for a in alice_m.blocks()] == [carol.user_id]
    assert [a.id for a in alice_m.mutes()] == [dave.user_id]
    assert bob_m.blocks() == bob_m.mutes() == []
    # And what carol and dave tag reaches bob's hashtag timeline, never alice's
    tag = word()
    hidden = [signed_in(proxy, app, user).status_post(f"#{tag} from {user.handle}").id for user in (carol, dave)]
    assert eventually(lambda: sorted(s.id for s in bob_m.timeline_hashtag(tag)) == sorted(hidden))  # both indexed
    assert alice_m.timeline_hashtag(tag) == []


def test_given_statuses_replies_and_media_when_the_public_timeline_is_read_then_originals_show_newest_first(
    alice_m, bob_m
):
    """Mastodon's public (and local) timeline: every public status but replies to others, from the search index;
    only_media narrows it; remote finds nothing (Chirp federates with none)."""
    # Given a status of bob's, alice's reply to it, and bob's reply to himself (a thread)
    status = bob_m.status_post(f"for everyone {word()}")
    reply = alice_m.status_post(f"@{bob_m.me().acct} agreed {word()}", in_reply_to_id=status.id)
    thread = bob_m.status_post(f"and one more thing {word()}", in_reply_to_id=status.id)

    # When the public timeline is read (once indexed: about a second), then the status and the thread show, and the
    # reply to someone else does not
    def ours() -> list:
        shown = [s.id for s in alice_m.timeline_public(limit=40) if s.id in (status.id, thread.id, reply.id)]
        return shown if {status.id, thread.id} <= set(shown) else []

    assert eventually(ours) == [thread.id, status.id]
    assert status.id in [s.id for s in bob_m.timeline_public(local=True, limit=40)]
    # Only media: every status carries media (alice's image of the first test is among them)
    with_media = alice_m.timeline_public(only_media=True, limit=40)
    assert with_media
    assert all(s.media_attachments for s in with_media)
    assert alice_m.timeline_public(remote=True) == []


def test_given_what_chirp_has_none_of_when_asked_then_clients_get_empty_answers_and_chirps_preferences(alice_m):
    """What apps ask at start: custom emojis, lists, filters, announcements, follow requests, conversations,
    followed hashtags (Chirp has none), and preferences (every status public)."""
    assert alice_m.custom_emojis() == []
    assert alice_m.lists() == []
    assert alice_m.filters_v2() == []
    assert alice_m.announcements() == []
    assert alice_m.follow_requests() == []
    assert alice_m.conversations() == []
    assert alice_m.followed_tags() == []
    assert alice_m.preferences()["posting:default:visibility"] == "public"


def test_given_a_retried_post_when_it_has_an_idempotency_key_then_one_status(proxy, alice_m):
    """toot sends an Idempotency-Key with every status; a retry after a lost answer gets the first status."""
    headers = {"Authorization": f"Bearer {alice_m.access_token}", "Idempotency-Key": uuid.uuid4().hex}
    body = {"status": f"only once {word()}", "visibility": "public", "sensitive": False}
    first, retry = (requests.post(f"{proxy.url}/api/v1/statuses", json=body, headers=headers, timeout=60) for _ in "ab")
    assert (first.status_code, retry.status_code) == (200, 200)
    assert first.json()["id"] == retry.json()["id"]
    other = requests.post(
        f"{proxy.url}/api/v1/statuses", json={**body, "status": "another"}, headers=headers, timeout=60
    )
    assert other.status_code == 422  # the key reused with other parameters
    assert other.json()["error"]


def test_given_a_status_when_its_author_deletes_it_then_the_source_comes_back_and_it_is_gone(alice_m, bob_m):
    status = alice_m.status_post(f"short-lived {word()}")
    deleted = alice_m.status_delete(status.id)
    assert deleted.text.startswith("short-lived")
    with pytest.raises(Exception, match=r"404|not found"):
        bob_m.status(status.id)


def test_given_a_revoked_token_when_used_then_it_is_refused(proxy, app, alice):
    token = client_token_of(proxy, app, alice)
    revoked = requests.post(
        f"{proxy.url}/oauth/revoke", data={"client_id": app[0], "client_secret": app[1], "token": token}, timeout=60
    )
    assert (revoked.status_code, revoked.json()) == (200, {})
    # Never used before its revocation, so the authorizer has no cached answer for it: refused at once.
    with pytest.raises(MastodonUnauthorizedError):
        Mastodon(access_token=token, api_base_url=proxy.url).account_verify_credentials()
    live = client_token_of(proxy, app, alice)
    assert Mastodon(access_token=live, api_base_url=proxy.url).account_verify_credentials().id == alice.user_id
    signed_in(proxy, app, alice).revoke_access_token()  # Mastodon.py's own revocation


def client_token_of(proxy, app, user) -> str:
    answer = requests.post(
        f"{proxy.url}/oauth/token",
        data={"grant_type": "password", "client_id": app[0], "client_secret": app[1], "username": user.handle,
              "password": PASSWORD, "scope": "read write"},
        timeout=60,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def test_given_a_wrong_password_when_signing_in_then_mastodon_py_is_refused(proxy, app, alice):
    client = Mastodon(client_id=app[0], client_secret=app[1], api_base_url=proxy.url)
    with pytest.raises(Exception, match=r"invalid_grant|Invalid user name"):
        client.log_in(alice.handle, "not-the-password", scopes=SCOPES, allow_http=True)


# --- toot ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def toot_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("toot-config")


def toot(home: Path, *args: str) -> str:
    env = {**os.environ, "XDG_CONFIG_HOME": str(home), "NO_COLOR": "1", "TERM": "dumb"}
    result = subprocess.run(
        [str(TOOT), *args], env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    assert result.returncode == 0, f"toot {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_given_toot_when_it_logs_in_and_acts_then_it_prints_what_chirp_did(proxy, toot_home, new_user, alice, alice_m):
    carol = new_user("mc")
    out = toot(toot_home, "login_cli", "--instance", proxy.url, "--email", carol.handle, "--password", PASSWORD)
    assert "Successfully logged in" in out
    config = json.loads((toot_home / "toot" / "config.json").read_text())
    assert config["active_user"].startswith(f"{carol.handle}@")
    assert carol.handle in toot(toot_home, "whoami")

    out = toot(toot_home, "follow", alice.handle)
    assert f"You are now following {alice.handle}" in out
    unique = word()
    for_carol = alice_m.status_post(f"for carol {unique}")
    out = toot(toot_home, "post", f"hello from toot {unique} #tootchirp")
    assert re.search(rf"Toot posted: http://\S+/@{carol.handle}/\d{{16,19}}$", out.strip()), out

    image = toot_home / "square.png"
    image.write_bytes(png("blue"))
    out = toot(toot_home, "upload", str(image), "--description", "blue")
    assert "Successfully uploaded media ID" in out
    out = toot(toot_home, "post", "--media", str(image), "--description", "a blue square", f"with an image {unique}")
    assert "Toot posted:" in out

    timeline = toot_until(toot_home, f"for carol {unique}", "timeline", "--once", "--count", "10")
    assert f"with an image {unique}" in timeline
    assert for_carol.id in toot_until(toot_home, for_carol.id, "search", unique)  # statuses print as id and URL
    alice_m.status_post(f"@{carol.handle} ping {unique}")
    mentions = toot_until(toot_home, f"ping {unique}", "notifications")
    assert alice.handle in mentions
    assert "Status favourited" in toot(toot_home, "favourite", for_carol.id)
    assert "Status reblogged" in toot(toot_home, "reblog", for_carol.id)
    counted = alice_m.status(for_carol.id)
    assert (counted.favourites_count, counted.reblogs_count) == (1, 1)
    assert alice.handle in toot(toot_home, "following", carol.handle)


def toot_until(home: Path, expected: str, *args: str) -> str:
    """What `toot args` prints once it prints `expected` (fan-out, indexing and notifying are asynchronous)."""
    printed = ""

    def check() -> bool:
        nonlocal printed
        printed = toot(home, *args)
        return expected in printed

    assert eventually(check), f"`toot {' '.join(args)}` never printed {expected!r}; last:\n{printed}"
    return printed


# --- every answer, against Mastodon's OpenAPI document ------------------------------------------------------


def test_given_every_answer_the_clients_got_when_replayed_then_each_is_as_mastodons_openapi_describes(proxy):
    exchanges = list(proxy.exchanges)
    clients = {exchange.client for exchange in exchanges}
    assert {"mastodonpy", "toot"} <= {c.lower() for c in clients}, clients
    assert len(exchanges) >= 60
    problems = [
        problem
        for exchange in exchanges
        for problem in response_errors(
            exchange.method, exchange.path, exchange.status, exchange.body, exchange.content_type
        )
    ]
    assert problems == [], "\n".join(problems[:40])


def test_given_the_recording_when_summarised_then_clients_called_what_the_surface_serves(proxy):
    """The clients' calls (printed with -s), so a change in what they call shows."""
    from tests.mastodon_openapi import operation

    seen = sorted(
        {
            (e.method, (operation(e.method, e.path) or e).template if operation(e.method, e.path) else e.path, e.status)
            for e in proxy.exchanges
        }
    )
    print(f"{len(proxy.exchanges)} answers, {len(seen)} distinct (method, operation, status):")
    print("\n".join(f"{m} {p} {s}" for m, p, s in seen))
    templates = {path for _, path, _ in seen}
    assert {"/api/v1/timelines/home", "/api/v2/media", "/oauth/token", "/api/v2/search"} <= templates
