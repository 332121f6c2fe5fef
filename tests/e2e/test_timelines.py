"""Home timelines through the deployed API: the fan-out tiers, paging, blocks, mutes and a lost Redis."""

from __future__ import annotations

from chirp.adapters.redis.timeline_cache import celebrity_key, timeline_key
from infra.config import LOCAL
from tests.e2e.conftest import eventually


def _home(user, **params) -> dict:
    response = user.call("GET", "/timelines/home", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _home_ids(user, **params) -> list[int]:
    return [entry["tweet"]["tweet_id"] for entry in _home(user, **params)["items"]]


def _arrives(user, tweet_id: int) -> bool:
    return bool(eventually(lambda: tweet_id in _home_ids(user)))


def _followed_by(author, new_user, count: int) -> list:
    followers = [new_user("fol") for _ in range(count)]
    for follower in followers:
        _home(follower)  # a live timeline, as an active user has
        assert follower.call("POST", f"/users/{author.user_id}/follow").status_code == 200
    return followers


def test_given_a_popular_author_when_posting_then_followers_get_it_through_the_async_workers(new_user):
    author = new_user("pop")
    followers = _followed_by(author, new_user, LOCAL.popular_threshold)
    tweet_id = author.call("POST", "/tweets", json={"text": "popular"}).json()["tweet_id"]
    assert all(_arrives(follower, tweet_id) for follower in followers)


def test_given_a_celebrity_when_posting_then_followers_see_it_by_pull(new_user, cloud_redis):
    author = new_user("cel")
    followers = _followed_by(author, new_user, LOCAL.celebrity_threshold)
    tweet_id = author.call("POST", "/tweets", json={"text": "celebrity"}).json()["tweet_id"]
    assert _arrives(followers[0], tweet_id)
    cache = cloud_redis
    assert cache.zscore(timeline_key(followers[0].user_id), tweet_id) is None  # pulled at read, never pushed
    assert cache.zscore(celebrity_key(author.user_id), tweet_id) is not None


def test_given_a_long_home_timeline_when_paging_then_no_gaps_or_repeats(new_user):
    authors = [new_user("pa"), new_user("pb")]
    reader = new_user("rd")
    _home(reader)
    for author in authors:
        reader.call("POST", f"/users/{author.user_id}/follow")
    posted = [
        author.call("POST", "/tweets", json={"text": f"#{i}"}).json()["tweet_id"]
        for i in range(6)
        for author in authors
    ]
    eventually(lambda: set(posted) <= set(_home_ids(reader, limit=100)))
    seen, cursor = [], None
    while True:
        page = _home(reader, limit=5, **({"cursor": cursor} if cursor else {}))
        seen += [entry["tweet"]["tweet_id"] for entry in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(posted, reverse=True)


def test_given_blocks_and_mutes_when_reading_then_those_authors_never_show(new_user):
    reader, blocked, muted = new_user("rd"), new_user("bl"), new_user("mu")
    _home(reader)
    for author in (blocked, muted):
        reader.call("POST", f"/users/{author.user_id}/follow")
    blocked_tweet = blocked.call("POST", "/tweets", json={"text": "blocked soon"}).json()["tweet_id"]
    muted_tweet = muted.call("POST", "/tweets", json={"text": "muted soon"}).json()["tweet_id"]
    assert _arrives(reader, blocked_tweet)
    assert _arrives(reader, muted_tweet)
    assert reader.call("POST", f"/users/{blocked.user_id}/block").status_code == 200
    assert reader.call("POST", f"/users/{muted.user_id}/mute").status_code == 200
    ids = _home_ids(reader)
    assert blocked_tweet not in ids
    assert muted_tweet not in ids
    assert reader.call("GET", f"/users/{reader.user_id}/follows/{blocked.user_id}").json()["following"] is False
    assert blocked.call("POST", f"/users/{reader.user_id}/follow").status_code == 403  # blocked both ways
    later = muted.call("POST", "/tweets", json={"text": "still muted"}).json()["tweet_id"]
    # One shard, in order: once the reader's own later tweet is delivered, the muted one was handled too.
    mine = reader.call("POST", "/tweets", json={"text": "mine"}).json()["tweet_id"]
    assert _arrives(reader, mine)
    assert later not in _home_ids(reader)
    assert reader.call("DELETE", f"/users/{muted.user_id}/mute").status_code == 200
    assert _arrives(reader, later)


def test_given_redis_lost_its_data_when_reading_then_timelines_are_rebuilt_with_nothing_lost(new_user, cloud_redis):
    author, reader = new_user("au"), new_user("rd")
    _home(reader)
    reader.call("POST", f"/users/{author.user_id}/follow")
    posted = [author.call("POST", "/tweets", json={"text": f"keep {i}"}).json()["tweet_id"] for i in range(3)]
    eventually(lambda: set(posted) <= set(_home_ids(reader)))
    before = _home_ids(reader)
    cache = cloud_redis
    # Everything but the id generators' worker leases, which live Lambda environments still hold.
    lost = [key for key in cache.scan_iter(count=1000) if not key.startswith("chirp:snowflake:lease:")]
    for start in range(0, len(lost), 500):
        cache.delete(*lost[start : start + 500])
    assert _home_ids(reader) == before
