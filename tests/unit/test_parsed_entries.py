"""ParsedEntries: the home read script's finished page (its entries' cached JSON) into the domain's page, each
distinct entry built once and shared, the oldest dropped first beyond the capacity."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chirp.adapters.redis.parsed_entries import ParsedEntries
from chirp.social.model import Profile
from chirp.timelines.model import TimelineEntry, TimelinePage
from chirp.tweets.model import STRING_IDS, Tweet

ANN = Profile(user_id="ann", handle="ann", display_name="Ann")
BOB = Profile(user_id="bob", handle="bob", display_name="Bob")


def entry_strings(entry_id: int, tweet: Tweet, author: Profile, retweeter: Profile | None = None) -> list[str]:
    """One entry as the script answers it: its JSON, made of the tweet and profiles as the cache stores them (no
    computed ids, no defaults)."""
    retweeted_by = retweeter.model_dump_json(exclude_defaults=True) if retweeter else "null"
    return [
        f'{{"entry_id":{entry_id},"tweet":{tweet.model_dump_json(exclude=STRING_IDS, exclude_defaults=True)},'
        f'"author":{author.model_dump_json(exclude_defaults=True)},"retweeted_by":{retweeted_by}}}'
    ]


def tweet(tweet_id: int, author: str = "ann", text: str = "hi") -> Tweet:
    return Tweet(tweet_id=tweet_id, author_id=author, text=text, created_at_ms=tweet_id)


def test_given_entries_and_a_cursor_when_made_into_a_page_then_it_holds_them_in_order():
    original = tweet(2**62 + 1)  # beyond a double's exact integers
    reply = ["7", *entry_strings(9, tweet(9), ANN), *entry_strings(8, original, ANN, retweeter=BOB)]

    page = ParsedEntries().page(reply[0], reply[1:])

    assert page == TimelinePage(
        items=[
            TimelineEntry(entry_id=9, tweet=tweet(9), author=ANN),
            TimelineEntry(entry_id=8, tweet=original, author=ANN, retweeted_by=BOB),
        ],
        next_cursor="7",
    )


def test_given_no_next_cursor_when_made_into_a_page_then_it_has_none():
    assert ParsedEntries().page("", [*entry_strings(1, tweet(1), ANN)]).next_cursor is None
    assert ParsedEntries().page("", []) == TimelinePage(items=[])


def test_given_a_page_made_before_when_made_again_then_its_entries_are_the_same_objects():
    parsed = ParsedEntries()
    reply = ["", *entry_strings(1, tweet(1), ANN), *entry_strings(2, tweet(2), BOB)]
    first = parsed.page(reply[0], reply[1:])

    again = parsed.page(reply[0], list(reply[1:]))

    assert [id(e) for e in again.items] == [id(e) for e in first.items]
    assert len(parsed) == 2


def test_given_a_changed_tweet_or_profile_when_made_again_then_it_is_a_new_entry():
    parsed = ParsedEntries()
    parsed.page("", [*entry_strings(1, tweet(1), ANN)])
    renamed = ANN.model_copy(update={"display_name": "Ann B."})

    page = parsed.page("", [*entry_strings(1, tweet(1, text="edited"), renamed)])

    assert (page.items[0].tweet.text, page.items[0].author.display_name) == ("edited", "Ann B.")
    assert len(parsed) == 2


def test_given_a_full_memo_when_a_new_entry_is_built_then_the_oldest_goes_first():
    parsed = ParsedEntries(capacity=2)
    first, second = parsed.page("", [*entry_strings(1, tweet(1), ANN), *entry_strings(2, tweet(2), ANN)]).items

    parsed.page("", [*entry_strings(3, tweet(3), ANN)])

    assert len(parsed) == 2
    assert parsed.page("", [*entry_strings(2, tweet(2), ANN)]).items[0] is second  # kept
    assert parsed.page("", [*entry_strings(1, tweet(1), ANN)]).items[0] is not first  # dropped, then built again


def test_given_shared_entries_when_a_reader_tries_to_change_one_then_it_is_refused():
    entry = ParsedEntries().page("", [*entry_strings(1, tweet(1), ANN)]).items[0]

    with pytest.raises(ValidationError):
        entry.tweet.text = "changed for everyone"
    with pytest.raises(ValidationError):
        entry.author = BOB


def test_given_a_cleared_memo_when_a_page_is_made_then_its_entries_are_built_again():
    parsed = ParsedEntries()
    reply = ["", *entry_strings(1, tweet(1), ANN)]
    first = parsed.page(reply[0], reply[1:]).items[0]

    parsed.clear()

    assert parsed.page(reply[0], reply[1:]).items[0] is not first
