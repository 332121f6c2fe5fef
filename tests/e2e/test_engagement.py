"""Likes, retweets, bookmarks, counts and the notifications they raise, through the deployed API: idempotent acts,
counts and flags on every shape a tweet is returned in, retweets delivered through all three fan-out tiers and shown
once, aggregated notifications, blocks respected, bookmarks seen by their owner alone."""

from __future__ import annotations

from chirp.adapters.redis.timeline_cache import celebrity_key, timeline_key
from infra.config import LOCAL
from tests.e2e.conftest import eventually


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def _post(user, text: str, **fields) -> int:
    return _ok(user.call("POST", "/tweets", json={"text": text, **fields}), 201)["tweet_id"]


def _home(user, **params) -> list[dict]:
    return _ok(user.call("GET", "/timelines/home", params={"limit": 100, **params}))["items"]


def _shown(user) -> list[tuple[int, int, str | None]]:
    """(entry id, id of the tweet shown, handle of who retweeted it) of each home entry."""
    return [(e["entry_id"], e["tweet"]["tweet_id"], (e["retweeted_by"] or {}).get("handle")) for e in _home(user)]


def _tweet(user, tweet_id: int) -> dict:
    return _ok(user.call("GET", f"/tweets/{tweet_id}"))


def _follow(follower, *followees) -> None:
    for followee in followees:
        _ok(follower.call("POST", f"/users/{followee.user_id}/follow"))


def test_given_a_tweet_when_liked_twice_and_unliked_twice_then_it_counts_one_like_then_none(new_user):
    author, fan, other = new_user("au"), new_user("fan"), new_user("oth")
    tweet_id = _post(author, "like me")

    for _ in range(2):
        state = _ok(fan.call("POST", f"/tweets/{tweet_id}/like"))
        assert (state["tweet_id"], state["kind"], state["active"]) == (tweet_id, "like", True)
    assert (_tweet(fan, tweet_id)["like_count"], _tweet(fan, tweet_id)["liked"]) == (1, True)
    assert (_tweet(other, tweet_id)["like_count"], _tweet(other, tweet_id)["liked"]) == (1, False)
    assert _ok(other.call("GET", f"/tweets/{tweet_id}/likes"))["user_ids"] == [fan.user_id]

    for _ in range(2):
        assert _ok(fan.call("DELETE", f"/tweets/{tweet_id}/like"))["active"] is False
    assert _ok(other.call("DELETE", f"/tweets/{tweet_id}/like"))["active"] is False  # never liked: a no-op
    assert (_tweet(fan, tweet_id)["like_count"], _tweet(fan, tweet_id)["liked"]) == (0, False)
    assert _ok(other.call("GET", f"/tweets/{tweet_id}/likes"))["user_ids"] == []


def test_given_a_tweet_when_retweeted_twice_and_undone_twice_then_one_retweet_then_none(new_user):
    author, fan = new_user("au"), new_user("fan")
    tweet_id = _post(author, "retweet me")

    first = _ok(fan.call("POST", f"/tweets/{tweet_id}/retweet"))
    again = _ok(fan.call("POST", f"/tweets/{tweet_id}/retweet"))

    assert first == again
    assert (first["active"], first["kind"]) == (True, "retweet")
    assert (_tweet(fan, tweet_id)["retweet_count"], _tweet(fan, tweet_id)["retweeted"]) == (1, True)
    retweet = _tweet(fan, first["retweet_id"])  # the retweet is a tweet of its own, showing the original
    assert (retweet["retweet_of_id"], retweet["retweeted_tweet"]["tweet_id"], retweet["text"]) == (
        tweet_id,
        tweet_id,
        "",
    )
    assert _ok(fan.call("GET", f"/tweets/{tweet_id}/retweets"))["user_ids"] == [fan.user_id]
    assert fan.call("DELETE", f"/tweets/{first['retweet_id']}").status_code == 400  # undone with /retweet only

    for _ in range(2):
        assert _ok(fan.call("DELETE", f"/tweets/{tweet_id}/retweet"))["active"] is False
    assert (_tweet(fan, tweet_id)["retweet_count"], _tweet(fan, tweet_id)["retweeted"]) == (0, False)
    assert fan.call("GET", f"/tweets/{first['retweet_id']}").status_code == 404


def test_given_a_retweet_when_retweeted_or_liked_then_the_original_is(new_user):
    author, fan, other = new_user("au"), new_user("fan"), new_user("oth")
    tweet_id = _post(author, "the original")
    retweet_id = _ok(fan.call("POST", f"/tweets/{tweet_id}/retweet"))["retweet_id"]

    assert _ok(other.call("POST", f"/tweets/{retweet_id}/retweet"))["tweet_id"] == tweet_id
    assert _ok(other.call("POST", f"/tweets/{retweet_id}/like"))["tweet_id"] == tweet_id
    original = _tweet(other, tweet_id)
    assert (original["retweet_count"], original["like_count"], original["liked"], original["retweeted"]) == (
        2,
        1,
        True,
        True,
    )


def test_given_blocks_deleted_and_unknown_tweets_when_engaging_then_403_and_404_in_the_error_shape(new_user):
    author, blocked, blocker = new_user("au"), new_user("bld"), new_user("blr")
    tweet_id = _post(author, "not for you")
    _ok(author.call("POST", f"/users/{blocked.user_id}/block"))
    _ok(blocker.call("POST", f"/users/{author.user_id}/block"))

    for user, message in ((blocked, "blocks you"), (blocker, "you block")):
        for act in ("like", "retweet"):
            response = user.call("POST", f"/tweets/{tweet_id}/{act}")
            assert response.status_code == 403, response.text
            assert response.json()["error"] == "Forbidden"
            assert message in response.json()["message"]
    gone = _post(author, "soon gone")
    assert author.call("DELETE", f"/tweets/{gone}").status_code == 204
    for path in (f"/tweets/{gone}/like", f"/tweets/{gone}/retweet", "/tweets/1/like"):
        response = blocked.call("POST", path)
        assert response.status_code == 404, response.text
        assert set(response.json()) == {"error", "message"}
    assert _tweet(author, tweet_id)["like_count"] == 0


def test_given_likes_retweets_replies_and_quotes_when_read_anywhere_then_every_tweet_carries_its_counts(new_user):
    author, fan, reader = new_user("au"), new_user("fan"), new_user("rd")
    _home(reader)
    _follow(reader, author)
    tag = f"counted{author.handle}"
    tweet_id = _post(author, f"count me #{tag} @{reader.handle}")
    _ok(fan.call("POST", f"/tweets/{tweet_id}/like"))
    _ok(reader.call("POST", f"/tweets/{tweet_id}/like"))
    _ok(fan.call("POST", f"/tweets/{tweet_id}/retweet"))
    _post(fan, "a reply", reply_to_id=tweet_id)
    _post(fan, "a quote", quote_tweet_id=tweet_id)
    expected = {"like_count": 2, "retweet_count": 1, "reply_count": 1, "quote_count": 1, "liked": True}

    def counted(tweet: dict | None) -> bool:
        return tweet is not None and {k: tweet[k] for k in expected} == expected

    def shapes() -> dict[str, dict | None]:
        single = _tweet(reader, tweet_id)
        own = _ok(reader.call("GET", f"/users/{author.user_id}/tweets"))["items"]
        home = [e["tweet"] for e in _home(reader) if e["tweet"]["tweet_id"] == tweet_id]
        found = _ok(reader.call("GET", "/search", params={"hashtag": tag}))["items"]
        notes = _ok(reader.call("GET", "/notifications"))["items"]
        liked = _ok(reader.call("GET", f"/users/{reader.user_id}/likes"))["items"]
        return {
            "single": single,
            "user timeline": next((t for t in own if t["tweet_id"] == tweet_id), None),
            "home": home[0] if home else None,
            "search": next((e["tweet"] for e in found if e["tweet"]["tweet_id"] == tweet_id), None),
            "notifications": next((n["tweet"] for n in notes if n["kind"] == "mention"), None),
            "likes": next((t for t in liked if t["tweet_id"] == tweet_id), None),
        }

    # Replies and quotes are counted by a stream consumer, and search indexes asynchronously.
    def all_counted() -> dict | None:
        found = shapes()
        return found if all(map(counted, found.values())) else None

    assert eventually(all_counted, timeout_s=60), shapes()
    # Flags are the caller's own.
    assert (_tweet(author, tweet_id)["liked"], _tweet(author, tweet_id)["retweeted"]) == (False, False)
    assert (_tweet(fan, tweet_id)["liked"], _tweet(fan, tweet_id)["retweeted"]) == (True, True)


def test_given_retweeters_in_each_fan_out_tier_when_they_retweet_then_followers_get_it_and_see_each_tweet_once(
    new_user, cloud_redis
):
    author, normal, popular, celebrity = new_user("au"), new_user("nrm"), new_user("pop"), new_user("cel")
    followers = [new_user("fol") for _ in range(LOCAL.celebrity_threshold)]
    for follower in followers:
        _home(follower)  # live timelines, as active users have
        _follow(follower, celebrity)
    for follower in followers[: LOCAL.popular_threshold]:
        _follow(follower, popular)
    reader = followers[0]
    _follow(reader, normal, author)  # the reader follows every retweeter and the author
    by_tier = {tier: _post(author, f"for the {tier} retweeter") for tier in ("normal", "popular", "celebrity")}
    everyone = _post(author, "retweeted by all three")

    retweets = {}
    for tier, retweeter in (("normal", normal), ("popular", popular), ("celebrity", celebrity)):
        retweets[tier] = _ok(retweeter.call("POST", f"/tweets/{by_tier[tier]}/retweet"))["retweet_id"]
        retweets[f"{tier} of all"] = _ok(retweeter.call("POST", f"/tweets/{everyone}/retweet"))["retweet_id"]
    handles = {"normal": normal.handle, "popular": popular.handle, "celebrity": celebrity.handle}

    # Each tier delivers: to the reader, the retweets show as "X retweeted" with the original.
    expected = {(retweets[tier], by_tier[tier], handles[tier]) for tier in handles}
    assert eventually(lambda: expected <= set(_shown(reader)), timeout_s=60), _shown(reader)
    entry = next(e for e in _home(reader) if e["entry_id"] == retweets["popular"])
    assert (entry["tweet"]["author_id"], entry["author"]["handle"], entry["retweeted_by"]["handle"]) == (
        author.user_id,
        author.handle,
        popular.handle,
    )
    # Another popular follower got it from the page workers; the celebrity's retweet is pulled, never pushed.
    assert eventually(lambda: retweets["popular"] in [e[0] for e in _shown(followers[-1 + LOCAL.popular_threshold])])
    cache = cloud_redis
    assert cache.zscore(timeline_key(followers[1].user_id), retweets["popular"]) is not None
    assert cache.zscore(timeline_key(reader.user_id), retweets["celebrity"]) is None
    assert cache.zscore(celebrity_key(celebrity.user_id), retweets["celebrity"]) is not None
    assert retweets["normal"] not in [e[0] for e in _shown(followers[-1])]  # it follows the celebrity alone

    # The tweet all three retweeted (its author also followed) shows once: as the newest retweet.
    def once() -> list[tuple[int, int, str | None]]:
        return [e for e in _shown(reader) if e[1] == everyone]

    assert eventually(lambda: once() == [(retweets["celebrity of all"], everyone, celebrity.handle)]), once()
    # (the pushed retweets of it are there too, hidden: the page workers deliver the popular one asynchronously)
    for pushed in ("normal of all", "popular of all"):
        assert eventually(lambda p=pushed: cache.zscore(timeline_key(reader.user_id), retweets[p]) is not None)
    # Undone, a retweet leaves timelines as lazily as a delete, and the next newest entry shows the tweet.
    _ok(celebrity.call("DELETE", f"/tweets/{everyone}/retweet"))
    assert once() == [(retweets["popular of all"], everyone, popular.handle)]
    _ok(celebrity.call("DELETE", f"/tweets/{by_tier['celebrity']}/retweet"))
    shown = by_tier["celebrity"]
    assert [e for e in _shown(reader) if e[1] == shown] == [(shown, shown, None)]  # the author is followed too
    # Deleted, the original takes every retweet of it along.
    assert author.call("DELETE", f"/tweets/{everyone}").status_code == 204
    assert once() == []
    assert everyone not in [
        (t.get("retweeted_tweet") or {}).get("tweet_id")
        for t in _ok(reader.call("GET", f"/users/{popular.user_id}/tweets"))["items"]
    ]


def test_given_many_likes_and_retweets_when_notified_then_one_updating_notification_per_tweet_and_kind(new_user):
    author, muted, first, second, third = (new_user(p) for p in ("au", "mut", "one", "two", "thr"))
    _ok(author.call("POST", f"/users/{muted.user_id}/mute"))
    tweet_id = _post(author, "popular opinion")
    _ok(author.call("POST", f"/tweets/{tweet_id}/like"))  # your own like notifies nobody
    _ok(muted.call("POST", f"/tweets/{tweet_id}/like"))  # counted, never named
    for fan in (first, second, third):
        _ok(fan.call("POST", f"/tweets/{tweet_id}/like"))
    _ok(second.call("POST", f"/tweets/{tweet_id}/retweet"))

    def aggregated() -> dict[str, dict]:
        items = _ok(author.call("GET", "/notifications"))["items"]
        return {n["kind"]: n for n in items if n["kind"] in ("like", "retweet")}

    def settled() -> dict[str, dict] | None:
        found = aggregated()
        likes, named = found.get("like"), [third.user_id, second.user_id, first.user_id]
        return found if "retweet" in found and likes and likes["actor_ids"] == named else None

    found = eventually(settled, timeout_s=60)
    assert found, aggregated()
    likes, retweets = found["like"], found["retweet"]
    assert (likes["count"], likes["actor_id"], likes["tweet_id"]) == (4, third.user_id, tweet_id)  # muted counts
    assert (likes["tweet"]["like_count"], likes["tweet"]["liked"]) == (5, True)
    assert (retweets["actor_ids"], retweets["count"]) == ([second.user_id], 1)
    kinds = [n["kind"] for n in _ok(author.call("GET", "/notifications"))["items"]]
    assert kinds.count("like") == 1
    assert kinds.count("retweet") == 1

    # An unlike names one actor fewer; a new like moves the notification to the top.
    _ok(third.call("DELETE", f"/tweets/{tweet_id}/like"))
    assert eventually(lambda: aggregated()["like"]["actor_ids"] == [second.user_id, first.user_id])
    later = new_user("lat")
    _ok(later.call("POST", f"/tweets/{tweet_id}/like"))
    assert eventually(lambda: _ok(author.call("GET", "/notifications"))["items"][0]["actor_id"] == later.user_id)


def test_given_a_quote_when_posted_then_the_quoted_author_is_notified(new_user):
    author, quoter = new_user("au"), new_user("quo")
    tweet_id = _post(author, "quote me")
    quote_id = _post(quoter, "quoting", quote_tweet_id=tweet_id)

    def quoted() -> list[dict]:
        return [n for n in _ok(author.call("GET", "/notifications"))["items"] if n["kind"] == "quote"]

    (notification,) = eventually(quoted, timeout_s=60)
    assert (notification["actor_id"], notification["tweet_id"], notification["tweet"]["quote_tweet_id"]) == (
        quoter.user_id,
        quote_id,
        tweet_id,
    )


def test_given_a_users_likes_when_paged_then_most_recently_liked_first_without_gaps(new_user):
    author, fan = new_user("au"), new_user("fan")
    tweets = [_post(author, f"liked {i}") for i in range(5)]
    for tweet_id in reversed(tweets):
        _ok(fan.call("POST", f"/tweets/{tweet_id}/like"))
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = _ok(author.call("GET", f"/users/{fan.user_id}/likes", params=params))
        seen += [t["tweet_id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == tweets  # the last liked (the first posted) first
    assert _ok(fan.call("GET", "/users/me/likes", params={"limit": 1}))["items"][0]["liked"] is True
    assert author.call("GET", "/users/nobody-at-all/likes").status_code == 404


def test_given_bookmarks_when_made_twice_and_paged_then_the_owner_alone_sees_them_newest_first(new_user):
    author, reader, other = new_user("au"), new_user("rd"), new_user("oth")
    tweets = [_post(author, f"keep {i}") for i in range(3)]
    for tweet_id in [*tweets, tweets[0]]:  # the first twice: it keeps its place
        state = _ok(reader.call("POST", f"/tweets/{tweet_id}/bookmark"))
        assert (state["tweet_id"], state["bookmarked"]) == (tweet_id, True)

    seen, cursor = [], None
    while True:
        page = _ok(reader.call("GET", "/bookmarks", params={"limit": 2, **({"cursor": cursor} if cursor else {})}))
        seen += [(t["tweet_id"], t["bookmarked"], t["like_count"]) for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [(t, True, 0) for t in reversed(tweets)]  # the last bookmarked first; nothing counted
    assert _ok(other.call("GET", "/bookmarks"))["items"] == []
    assert (_tweet(reader, tweets[1])["bookmarked"], _tweet(other, tweets[1])["bookmarked"]) == (True, False)

    for _ in range(2):
        assert _ok(reader.call("DELETE", f"/tweets/{tweets[1]}/bookmark"))["bookmarked"] is False
    assert [t["tweet_id"] for t in _ok(reader.call("GET", "/bookmarks"))["items"]] == [tweets[2], tweets[0]]
    missing = reader.call("POST", "/tweets/123456789/bookmark")
    assert (missing.status_code, missing.json()["message"]) == (404, "tweet 123456789 not found")
    refused = reader.call("GET", "/bookmarks", params={"limit": 0})
    assert (refused.status_code, "limit" in refused.text) == (400, True)
