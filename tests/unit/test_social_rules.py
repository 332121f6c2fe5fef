"""The social rules (chirp.social.service) on in-memory fakes: profiles, follows, blocks and mutes."""

from __future__ import annotations

import pytest

from chirp.errors import Conflict, Forbidden, InvalidInput, NotFound
from chirp.social.model import Profile, Relation
from chirp.timelines.rules import Thresholds
from tests.unit.fakes import World


@pytest.fixture
def world() -> World:
    world = World(Thresholds(popular=3, celebrity=5))
    world.users("ann", "bob")
    return world


def counts(world: World, user_id: str) -> tuple[int, int]:
    profile = world.social.profile(user_id)
    return profile.followers_count, profile.following_count


def kinds(world: World, user_id: str) -> list[str]:
    return [n.kind for n in world.notification_store.of(user_id)]


# --- profiles ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("handle", ["abc", "a_1", "A" * 15, "___"])
def test_given_a_valid_handle_when_creating_a_profile_then_it_is_stored_with_the_clock_time(world, handle):
    profile = world.social.create_profile("carl", handle, "  Carl  ")

    assert profile == Profile(user_id="carl", handle=handle, display_name="Carl", created_at_ms=world.clock())
    assert world.social.profile("carl") == profile


@pytest.mark.parametrize("handle", ["ab", "A" * 16, "no-dash", "sp ace", "", "é_accent", "\nabc", "abc\n"])
def test_given_an_invalid_handle_when_creating_a_profile_then_it_is_refused(world, handle):
    with pytest.raises(InvalidInput, match=r"^handle must be 3-15 letters, digits or underscores$"):
        world.social.create_profile("carl", handle, "Carl")
    assert world.social_store.get_profile("carl") is None


@pytest.mark.parametrize("name", ["C", "x" * 50, " padded name "])
def test_given_a_display_name_of_1_to_50_characters_when_creating_then_it_is_kept_stripped(world, name):
    assert world.social.create_profile("carl", "carl", name).display_name == name.strip()


@pytest.mark.parametrize("name", ["", "   ", "x" * 51])
def test_given_an_empty_or_too_long_display_name_when_creating_then_it_is_refused(world, name):
    with pytest.raises(InvalidInput, match=r"^display_name must be 1-50 characters$"):
        world.social.create_profile("carl", "carl", name)


def test_given_a_taken_handle_or_an_existing_profile_when_creating_then_conflict(world):
    with pytest.raises(Conflict, match="taken"):
        world.social.create_profile("carl", "ANN", "Carl")
    with pytest.raises(Conflict, match="already has a profile"):
        world.social.create_profile("ann", "ann2", "Ann")


def test_given_an_unknown_user_when_reading_a_profile_then_not_found(world):
    with pytest.raises(NotFound, match=r"^user nobody not found$"):
        world.social.profile("nobody")


# --- follow -----------------------------------------------------------------------------------------------


def test_given_two_profiles_when_following_then_counts_move_the_timeline_is_backfilled_and_a_notification_raised(
    world,
):
    world.live("ann")
    world.tweet("bob", 1)
    world.cache.put_profiles([world.social.profile("ann"), world.social.profile("bob")])
    world.clock.advance(5)

    assert world.social.follow("ann", "bob") is True

    assert world.social.follows("ann", "bob")
    assert counts(world, "ann") == (0, 1)
    assert counts(world, "bob") == (1, 0)
    assert world.cache.ids("ann") == [1]
    assert world.cache.profiles == {}  # their cached counts are stale
    (notification,) = world.notification_store.of("bob")
    assert (notification.kind, notification.actor_id, notification.at_ms) == ("follow", "ann", world.clock())
    # One read (profiles, blocks, the mute) and one write (edge, counts, notification) in the social store.
    assert (world.social_store.follow_checks, world.social_store.follow_writes) == (1, 1)
    assert world.cache.follow_calls == 1  # the relation, the stale profiles and the celebrity mark: one round trip


def test_given_a_follow_when_its_notification_is_stored_then_it_is_handed_on_for_pushing_once(world):
    pushed = []
    world.social.on_notified = lambda recipient_id, notification: pushed.append((recipient_id, notification))

    world.social.follow("ann", "bob")
    world.social.follow("ann", "bob")  # a repeat stores nothing: nothing to push

    assert pushed == [("bob", world.notification_store.of("bob")[0])]
    world.users("cat")
    world.social.mute("cat", "ann")
    world.social.follow("ann", "cat")  # muted: no notification stored, none pushed
    assert [recipient for recipient, _ in pushed] == ["bob"]


def test_given_a_followee_at_the_celebrity_threshold_when_followed_then_the_tier_moves_with_the_count_just_read(
    world,
):
    for i in range(world.timelines.thresholds.celebrity - 1):
        world.users(f"fan{i}")
        world.social.follow(f"fan{i}", "bob")
    assert not world.cache.is_celebrity("bob")

    world.social.follow("ann", "bob")

    assert world.cache.is_celebrity("bob")


def test_given_a_followee_one_below_the_celebrity_threshold_when_a_follow_is_repeated_then_the_tier_stays(world):
    # The repeat counts nobody: the tier is refreshed with the count as it stands, not one more.
    for i in range(world.timelines.thresholds.celebrity - 2):
        world.users(f"fan{i}")
        world.social.follow(f"fan{i}", "bob")
    world.social.follow("ann", "bob")

    world.social.follow("ann", "bob")

    assert counts(world, "bob") == (world.timelines.thresholds.celebrity - 1, 0)
    assert not world.cache.is_celebrity("bob")


def test_given_an_existing_follow_when_following_again_then_nothing_is_counted_nor_notified_but_redis_healed(world):
    world.live("ann")
    world.social.follow("ann", "bob")
    world.tweet("bob", 1)  # e.g. a backfill a crash interrupted
    world.clock.advance(1000)

    assert world.social.follow("ann", "bob") is False

    assert counts(world, "bob") == (1, 0)
    assert kinds(world, "bob") == ["follow"]
    assert world.cache.ids("ann") == [1]


def test_given_oneself_when_following_then_it_is_refused(world):
    with pytest.raises(InvalidInput, match=r"^you cannot follow yourself$"):
        world.social.follow("ann", "ann")


def test_given_no_profile_of_ones_own_when_following_then_it_is_forbidden(world):
    with pytest.raises(Forbidden, match=r"^create your profile \(POST /users\) first$"):
        world.social.follow("ghost", "bob")
    assert counts(world, "bob") == (0, 0)


def test_given_an_unknown_followee_when_following_then_not_found(world):
    with pytest.raises(NotFound, match="nobody"):
        world.social.follow("ann", "nobody")


def test_given_the_follower_blocks_the_followee_when_following_then_it_is_forbidden(world):
    world.social.block("ann", "bob")
    with pytest.raises(Forbidden, match=r"^you block this user: unblock them first$"):
        world.social.follow("ann", "bob")
    assert not world.social.follows("ann", "bob")


def test_given_the_followee_blocks_the_follower_when_following_then_it_is_forbidden(world):
    world.social.block("bob", "ann")
    with pytest.raises(Forbidden, match=r"^this user blocks you$"):
        world.social.follow("ann", "bob")
    assert not world.social.follows("ann", "bob")
    assert kinds(world, "bob") == []


def test_given_the_followee_muted_the_follower_when_following_then_it_follows_without_a_notification(world):
    world.social.mute("bob", "ann")
    assert world.social.follow("ann", "bob") is True
    assert kinds(world, "bob") == []


# --- unfollow ---------------------------------------------------------------------------------------------


def test_given_a_follow_when_unfollowing_then_counts_move_back_and_their_tweets_leave_the_timeline(world):
    world.live("ann")
    world.tweet("bob", 1)
    world.social.follow("ann", "bob")
    world.cache.put_profiles([world.social.profile("ann"), world.social.profile("bob")])

    assert world.social.unfollow("ann", "bob") is True

    assert not world.social.follows("ann", "bob")
    assert counts(world, "ann") == (0, 0)
    assert counts(world, "bob") == (0, 0)
    assert world.cache.ids("ann") == []
    assert world.cache.profiles == {}
    assert world.social.unfollow("ann", "bob") is False  # idempotent
    assert counts(world, "bob") == (0, 0)


def test_given_oneself_or_unknown_users_when_unfollowing_then_it_is_refused(world):
    with pytest.raises(InvalidInput, match=r"^you cannot follow yourself$"):
        world.social.unfollow("ann", "ann")
    with pytest.raises(Forbidden):
        world.social.unfollow("ghost", "ann")
    with pytest.raises(NotFound):
        world.social.unfollow("ann", "ghost")


# --- blocks and mutes -------------------------------------------------------------------------------------


def test_given_follows_both_ways_when_blocking_then_both_end_with_their_counts_and_the_author_is_hidden(world):
    world.live("ann", "bob")
    world.social.follow("ann", "bob")
    world.social.follow("bob", "ann")
    world.timelines.fan_out(world.tweet("bob", 1))
    world.timelines.fan_out(world.tweet("ann", 2))
    world.cache.put_profiles([world.social.profile("ann"), world.social.profile("bob")])

    world.social.block("ann", "bob")

    assert not world.social.follows("ann", "bob")
    assert not world.social.follows("bob", "ann")
    assert counts(world, "ann") == (0, 0)
    assert counts(world, "bob") == (0, 0)
    assert world.social_store.has_edge(Relation.BLOCKS, "ann", "bob")
    assert world.cache.relations[Relation.BLOCKS, "ann"] == {"bob"}
    assert world.cache.relations[Relation.FOLLOWS, "bob"] == set()
    assert world.cache.ids("ann") == [2]
    assert world.cache.ids("bob") == [1]  # ann's tweets left bob's timeline too
    assert world.cache.profiles == {}


def test_given_no_follows_when_blocking_then_only_the_block_is_stored(world):
    world.live("ann")
    world.social.block("ann", "bob")
    world.social.block("ann", "bob")  # idempotent
    assert world.social_store.has_edge(Relation.BLOCKS, "ann", "bob")
    assert counts(world, "ann") == (0, 0)


def test_given_a_block_when_unblocking_then_it_is_gone_and_nothing_comes_back_as_follows_ended(world):
    world.live("ann")
    world.tweet("bob", 1)
    world.social.follow("ann", "bob")
    world.social.block("ann", "bob")

    world.social.unblock("ann", "bob")

    assert not world.social_store.has_edge(Relation.BLOCKS, "ann", "bob")
    assert counts(world, "ann") == counts(world, "bob") == (0, 0)  # a block is not counted
    assert world.cache.relations[Relation.BLOCKS, "ann"] == set()
    assert world.cache.ids("ann") == []
    assert world.social.follow("ann", "bob") is True  # may follow again


def test_given_a_followed_author_when_muted_and_unmuted_then_their_tweets_leave_and_come_back(world):
    world.live("ann")
    world.tweet("bob", 1)
    world.social.follow("ann", "bob")

    world.social.mute("ann", "bob")
    assert world.social_store.has_edge(Relation.MUTES, "ann", "bob")
    assert world.social.follows("ann", "bob")  # a mute keeps the follow
    assert (counts(world, "ann"), counts(world, "bob")) == ((0, 1), (1, 0))  # and is not counted
    assert world.cache.ids("ann") == []
    assert world.cache.relations[Relation.MUTES, "ann"] == {"bob"}
    world.timelines.fan_out(world.tweet("bob", 2))
    assert world.home_ids("ann") == []

    world.social.unmute("ann", "bob")
    assert not world.social_store.has_edge(Relation.MUTES, "ann", "bob")
    assert (counts(world, "ann"), counts(world, "bob")) == ((0, 1), (1, 0))
    assert world.cache.relations[Relation.MUTES, "ann"] == set()
    assert world.cache.ids("ann") == [2, 1]
    assert world.home_ids("ann") == [2, 1]


@pytest.mark.parametrize("verb", ["block", "unblock", "mute", "unmute"])
def test_given_oneself_or_unknown_users_when_hiding_then_it_is_refused_by_name(world, verb):
    act = getattr(world.social, verb)
    with pytest.raises(InvalidInput, match=f"^you cannot {verb} yourself$"):
        act("ann", "ann")
    with pytest.raises(Forbidden, match="create your profile"):
        act("ghost", "ann")
    with pytest.raises(NotFound, match="ghost"):
        act("ann", "ghost")


# --- reading the graph ------------------------------------------------------------------------------------


def test_given_no_follow_when_asked_then_false_for_known_users_and_not_found_for_unknown(world):
    assert world.social.follows("ann", "bob") is False
    with pytest.raises(NotFound, match="ghost"):
        world.social.follows("ghost", "bob")
    with pytest.raises(NotFound, match="ghost"):
        world.social.follows("ann", "ghost")


def test_given_followers_when_paged_then_pages_and_cursors_come_from_the_store(world):
    world.users("cat", "dan")
    for follower in ("bob", "cat", "dan"):
        world.social.follow(follower, "ann")

    first = world.social.followers("ann", cursor=None, limit=2)
    rest = world.social.followers("ann", cursor=first.next_cursor, limit=2)

    assert (first.user_ids, rest.user_ids, rest.next_cursor) == (["bob", "cat"], ["dan"], None)
    assert first.next_cursor is not None
    assert world.social.following("ann", cursor=None, limit=10).user_ids == []


def test_given_followees_when_paged_then_pages_and_cursors_come_from_the_store(world):
    world.users("cat", "dan")
    for followee in ("bob", "cat", "dan"):
        world.social.follow("ann", followee)

    first = world.social.following("ann", cursor=None, limit=2)
    rest = world.social.following("ann", cursor=first.next_cursor, limit=2)

    assert (first.user_ids, rest.user_ids, rest.next_cursor) == (["bob", "cat"], ["dan"], None)
    assert first.next_cursor is not None
    assert world.social.followers("ann", cursor=None, limit=10).user_ids == []


@pytest.mark.parametrize("kind", [Relation.BLOCKS, Relation.MUTES])
def test_given_blocks_and_mutes_when_listed_then_each_kind_pages_its_own_targets(world, kind):
    # Given ann blocks bob and cat and mutes dan, and follows eve (whom the lists must not name)
    world.users("cat", "dan", "eve")
    world.social.block("ann", "bob")
    world.social.block("ann", "cat")
    world.social.mute("ann", "dan")
    world.social.follow("ann", "eve")
    expected = {Relation.BLOCKS: ["bob", "cat"], Relation.MUTES: ["dan"]}[kind]

    # When listed a page of one at a time
    listed, cursor, pages = [], None, 0
    while pages == 0 or cursor:
        page = world.social.related(kind, "ann", cursor=cursor, limit=1)
        listed, cursor, pages = listed + page.user_ids, page.next_cursor, pages + 1

    # Then each kind names its own targets, over pages, and nobody else's
    assert listed == expected
    assert pages >= len(expected)
    assert world.social.related(kind, "bob", cursor=None, limit=10).user_ids == []


@pytest.mark.parametrize("page", ["followers", "following"])
def test_given_a_bad_limit_or_unknown_user_when_paged_then_refused(world, page):
    read = getattr(world.social, page)
    with pytest.raises(InvalidInput, match="limit"):
        read("ann", cursor=None, limit=0)
    with pytest.raises(NotFound):
        read("ghost", cursor=None, limit=10)


# --- lookups: relationships, handles, profiles ------------------------------------------------------------


def edges(*, follows=False, blocks=False, mutes=False, followed_by=False, blocked_by=False) -> dict:
    """A relationship as SocialService.relationship answers it: every edge, each way."""
    return {
        Relation.FOLLOWS: follows, Relation.BLOCKS: blocks, Relation.MUTES: mutes,
        "followed_by": followed_by, "blocked_by": blocked_by,
    }  # fmt: skip


def test_given_follows_both_ways_and_a_mute_when_asked_then_each_side_sees_its_own_edges_and_the_others(world):
    world.social.follow("ann", "bob")
    world.social.mute("ann", "bob")
    world.social.follow("bob", "ann")

    assert world.social.relationship("ann", "bob") == edges(follows=True, mutes=True, followed_by=True)
    assert world.social.relationship("bob", "ann") == edges(follows=True, followed_by=True)


def test_given_a_block_when_asked_then_the_blocker_sees_it_and_the_blocked_sees_blocked_by(world):
    world.social.follow("ann", "bob")
    world.social.block("bob", "ann")  # also ends the follow

    assert world.social.relationship("bob", "ann") == edges(blocks=True)
    assert world.social.relationship("ann", "bob") == edges(blocked_by=True)


@pytest.mark.parametrize("handle", ["bob", "BOB", "Bob"])
def test_given_a_handle_in_any_letter_case_when_looked_up_then_its_profile(world, handle):
    assert world.social.by_handle(handle) == world.social.profile("bob")


@pytest.mark.parametrize("handle", ["nobody", "no-dash", "ab", ""])
def test_given_a_handle_nobody_has_or_none_could_when_looked_up_then_not_found_naming_it(world, handle):
    with pytest.raises(NotFound, match=rf"^no user has the handle @{handle}$"):
        world.social.by_handle(handle)


def test_given_a_very_long_handle_when_looked_up_then_not_found_names_its_first_64_characters(world):
    with pytest.raises(NotFound, match=r"^no user has the handle @x{64}$"):
        world.social.by_handle("x" * 500)


def test_given_handles_repeated_in_other_cases_unknown_or_invalid_when_looked_up_then_the_existing_by_lower_case(
    world,
):
    world.social.create_profile("u1", "Ann_1", "Ann")

    found = world.social.by_handles(["ANN_1", "ann_1", "bob", "nobody", "not a handle", "x" * 16])

    assert found == {"ann_1": world.social.profile("u1"), "bob": world.social.profile("bob")}
    assert world.social.by_handles([]) == {}


def test_given_ids_repeated_and_unknown_when_profiles_are_asked_then_those_that_exist_by_id(world):
    assert world.social.profiles(["bob", "ann", "bob", "nobody"]) == {
        "ann": world.social.profile("ann"),
        "bob": world.social.profile("bob"),
    }
    assert world.social.profiles([]) == {}
