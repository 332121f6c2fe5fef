"""Search through the deployed API respects its caller: the tweets of whom the caller mutes or blocks, and of
who blocks the caller, are not returned; from:handle, @handle, "phrases", #tags and sort=top work end to end."""

from __future__ import annotations

import uuid

from tests.e2e.conftest import eventually


def _search(user, **params) -> list[str]:
    response = user.call("GET", "/search", params=params)
    assert response.status_code == 200, response.text
    return [entry["tweet"]["author_id"] for entry in response.json()["items"]]


def test_given_muted_blocked_and_blocking_authors_when_searching_then_only_the_others_are_returned(new_user):
    reader, muted, blocked, blocking, other = (new_user(p) for p in ("rdr", "mut", "blk", "bkg", "oth"))
    assert reader.call("POST", f"/users/{muted.user_id}/mute").status_code == 200
    assert reader.call("POST", f"/users/{blocked.user_id}/block").status_code == 200
    assert blocking.call("POST", f"/users/{reader.user_id}/block").status_code == 200
    word = f"w{uuid.uuid4().hex[:12]}"
    for author in (muted, blocked, blocking, other):
        assert author.call("POST", "/tweets", json={"text": f"searchable {word}"}).status_code == 201

    assert eventually(lambda: len(_search(other, q=word)) == 4)  # all four are indexed (another caller sees them)
    assert _search(reader, q=word) == [other.user_id]


def test_given_handles_phrases_and_tags_in_the_query_when_searching_then_each_narrows(new_user):
    ann, bob = new_user("ann"), new_user("bob")
    tag = f"t{uuid.uuid4().hex[:10]}"
    ann.call("POST", "/tweets", json={"text": f"red green blue #{tag}"})
    bob.call("POST", "/tweets", json={"text": f"blue green red #{tag}"})
    assert eventually(lambda: len(_search(ann, hashtag=tag)) == 2)

    assert _search(ann, q=f"from:{bob.handle} #{tag}") == [bob.user_id]
    assert _search(ann, q=f"#{tag}", author=f"@{ann.handle}") == [ann.user_id]
    assert _search(ann, q=f'"green blue" #{tag}') == [ann.user_id]
    assert sorted(_search(ann, q=f"#{tag} red", sort="top")) == sorted([ann.user_id, bob.user_id])
    assert _search(ann, q=f"from:nobody{tag[:5]} #{tag}") == []
    bad = ann.call("GET", "/search", params={"q": "x", "sort": "best"})
    assert bad.status_code == 400
