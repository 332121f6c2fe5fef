"""Degradation levels (chirp.degradation): what each level switches off, level by level through the rules on
fakes; how a process reads the level; the automatic controller fed with signals (its handler:
test_degradation_controller.py)."""

from __future__ import annotations

import pytest

from chirp.degradation.controller import ControllerState, Signals, Tuning, called_for, decide
from chirp.degradation.levels import OFF_FROM, CurrentLevel, Feature, Level, Switches, enabled, refusal
from chirp.degradation.service import DegradationController
from chirp.timelines.rules import Thresholds
from chirp.trends.rules import Trends
from chirp.tweets.model import Tweet
from tests.unit.fakes import (
    FakeAccountAges,
    FakeClock,
    FakeLevelStore,
    FakeMetrics,
    FakeTagCounter,
    FakeTagLists,
    FakeTrendState,
    World,
)

TUNING = Tuning(min_requests=10, calm_runs=3, clear_ratio=0.7)
QUIET = Signals(api_p99_ms=100, api_errors=0, api_requests=1000, iterator_age_ms=0)


# --- the levels ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "level"), [("0", Level.NORMAL), (3, Level.CRITICAL), (" Survival ", Level.SURVIVAL)])
def test_given_a_level_written_by_an_operator_when_parsed_then_by_number_or_name(text, level):
    assert Level.parse(text) is level


@pytest.mark.parametrize("text", ["5", "-1", "high", "", "2.5"])
def test_given_no_level_when_parsed_then_refused(text):
    with pytest.raises(ValueError, match="normal, advisory, warning, critical, survival"):
        Level.parse(text)


def test_given_the_levels_when_features_are_asked_then_each_level_switches_off_more_never_less():
    off = {level: {f for f in Feature if not enabled(f, level)} for level in Level}

    assert off[Level.NORMAL] == set()
    assert off[Level.ADVISORY] == {Feature.TRENDS_RECORDING, Feature.TRENDS_REFRESH}
    assert off[Level.WARNING] == off[Level.ADVISORY] | {Feature.TIMELINE_REBUILD, Feature.CELEBRITY_MERGE}
    assert off[Level.CRITICAL] == off[Level.WARNING] | {Feature.FANOUT_ON_WRITE, Feature.SEARCH}
    assert off[Level.SURVIVAL] == set(Feature) == set(OFF_FROM)


@pytest.mark.parametrize(
    ("level", "method", "is_search", "refused"),
    [
        (Level.WARNING, "GET", True, False),
        (Level.CRITICAL, "GET", True, True),
        (Level.CRITICAL, "POST", False, False),
        (Level.SURVIVAL, "POST", False, True),
        (Level.SURVIVAL, "delete", False, True),
        (Level.SURVIVAL, "GET", False, False),
        (Level.SURVIVAL, "OPTIONS", False, False),
    ],
)
def test_given_a_level_when_a_request_arrives_then_only_what_the_level_switched_off_is_refused(
    level, method, is_search, refused
):
    answer = refusal(level, method, is_search=is_search)

    assert (answer is not None) is refused
    if answer:
        assert answer.retry_after_s == 60
        assert f"(degradation level {level.value}, {level.name.lower()})" in answer.message


def test_given_a_level_in_ssm_when_read_per_request_then_ssm_is_asked_once_per_cache_period():
    store, now = FakeLevelStore(manual=Level.WARNING), [100.0]
    level = CurrentLevel(lambda: store.read().effective, ttl_s=2, clock=lambda: now[0])

    assert [level() for _ in range(50)] == [Level.WARNING] * 50
    assert store.reads == 1
    store.manual = Level.CRITICAL
    now[0] = 101.9
    assert level() is Level.WARNING  # cached: operators' changes take up to the cache period
    now[0] = 102.0
    assert level() is Level.CRITICAL
    assert store.reads == 2


def test_given_ssm_unreachable_when_the_level_is_read_then_the_last_one_holds_and_normal_before_any():
    store, now = FakeLevelStore(manual=Level.CRITICAL), [100.0]
    store.fail = True
    level = CurrentLevel(lambda: store.read().effective, ttl_s=2, clock=lambda: now[0])

    assert level() is Level.NORMAL
    store.fail, now[0] = False, 101.0
    assert level() is Level.NORMAL  # a failed read waits the cache period too: no SSM call per request
    now[0] = 102.0
    assert level() is Level.CRITICAL
    store.fail, now[0] = True, 104.0
    assert level() is Level.CRITICAL


# --- level 1: trends stop -------------------------------------------------------------------------------------


@pytest.fixture
def trends_world():
    clock, counter, level = FakeClock(), FakeTagCounter(), [Level.NORMAL]
    trends = Trends(
        counter,
        FakeTrendState(clock),
        FakeAccountAges(),
        FakeTagLists(),
        min_accounts=5,
        ranked_ttl_s=60,
        new_account_ms=0,
        clock_ms=clock,
        switches=Switches(lambda: level[0]),
    )
    return clock, counter, level, trends


def _tagged(author: str, tag: str, at_ms: int) -> Tweet:
    return Tweet(tweet_id=1, author_id=author, text=f"#{tag} from {author}", created_at_ms=at_ms, hashtags=[tag])


def test_given_level_1_when_tweets_are_consumed_then_hashtags_are_not_counted(trends_world):
    clock, counter, level, trends = trends_world
    level[0] = Level.ADVISORY

    assert trends.record([_tagged("a", "storm", clock())]) is False
    assert counter.buckets == {}
    level[0] = Level.NORMAL
    assert trends.record([_tagged("a", "storm", clock())]) is True
    assert counter.buckets


def test_given_level_0_when_trends_are_asked_then_the_ranking_is_recomputed_only_once_per_refresh(trends_world):
    clock, _, _, trends = trends_world
    for author in "abcdef":
        trends.record([_tagged(author, "storm", clock())])

    assert [t.hashtag for t in trends.top()] == ["storm"]
    trends.record([_tagged(a, "quake", clock()) for a in "abcdefgh"])
    assert [t.hashtag for t in trends.top()] == ["storm"]  # kept: younger than a minute
    assert trends.state.rankings_kept == 1
    clock.advance(60_000)
    assert [t.hashtag for t in trends.top()] == ["quake", "storm"]
    assert trends.state.rankings_kept == 2


def test_given_level_1_when_trends_are_asked_then_the_ranking_kept_is_served_however_old(trends_world):
    clock, _, level, trends = trends_world
    for author in "abcdef":
        trends.record([_tagged(author, "storm", clock())])
    kept = trends.top()
    level[0] = Level.ADVISORY
    clock.advance(6 * 3_600_000)

    assert trends.top() == kept
    assert trends.state.rankings_kept == 1


def test_given_level_1_and_no_ranking_ever_computed_when_trends_are_asked_then_none_rather_than_work(trends_world):
    clock, _, level, trends = trends_world
    for author in "abcdef":
        trends.record([_tagged(author, "storm", clock())])
    level[0] = Level.ADVISORY

    assert trends.top() == []
    assert trends.state.rankings_kept == 0


# --- level 2: timelines as Redis holds them ---------------------------------------------------------------------


@pytest.fixture
def world() -> World:
    w = World(Thresholds(popular=3, celebrity=5))
    w.users("reader", "author", "star", *(f"fan{i}" for i in range(5)))
    return w


def _make_celebrity(world: World) -> None:
    for i in range(5):
        world.follow(f"fan{i}", "star")
    world.timelines.refresh_tier("star")


def test_given_level_2_when_a_lost_timeline_is_read_then_it_is_not_rebuilt_until_the_level_drops(world):
    world.edge("reader", "author")
    world.tweet("author", 10)
    world.level = Level.WARNING

    assert world.home_ids("reader") == []  # served as Redis holds it: nothing
    assert not world.cache.is_live("reader")  # and no rebuild was done
    world.level = Level.NORMAL
    assert world.home_ids("reader") == [10]


def test_given_level_2_when_a_celebrity_follower_reads_then_the_celebrity_is_not_merged_and_comes_back_at_0(world):
    _make_celebrity(world)
    world.live("reader")
    world.follow("reader", "star")
    world.timelines.fan_out(world.tweet("star", 20))
    world.level = Level.WARNING

    assert world.home_ids("reader") == []
    world.level = Level.NORMAL
    assert world.home_ids("reader") == [20]


# --- level 3: fan-out on write off, timelines built on read, nothing lost -----------------------------------------


def test_given_level_3_when_a_tweet_is_fanned_out_then_it_is_deferred_and_readers_build_it_in_on_read(world):
    world.live("reader", "author")
    world.follow("reader", "author")
    world.level = Level.CRITICAL

    tier = world.timelines.fan_out(world.tweet("author", 30))

    assert tier is None
    assert world.cache.ids("reader") == []  # not pushed
    assert world.cache.ids("author") == [30]  # its author sees it at once
    assert world.home_ids("reader") == [30]  # pulled on read
    assert world.timelines.catch_up() == 0  # nothing is pushed while fan-out is off


def test_given_tweets_deferred_at_level_3_when_the_level_drops_then_catch_up_pushes_each_once_and_forgets_them(world):
    world.live("reader", "fan0")
    world.follow("reader", "author")
    world.follow("fan0", "author")
    world.level = Level.CRITICAL
    for tweet_id in (31, 32, 33):
        world.timelines.fan_out(world.tweet("author", tweet_id))
    world.tweets.delete("author", 32)  # deleted while deferred
    world.level = Level.NORMAL

    assert world.home_ids("reader") == [33, 31]  # still pulled until caught up: no gap after the level drops
    assert world.timelines.catch_up() == 2  # 31 and 33; 32 was already forgotten by its deletion

    assert world.cache.ids("reader") == [33, 31]
    assert world.cache.ids("fan0") == [33, 31]
    assert world.cache.deferred == {}
    assert world.timelines.catch_up() == 0


def test_given_two_deferring_authors_when_caught_up_within_a_bound_then_the_bound_counts_across_authors(world):
    world.live("reader")
    world.follow("reader", "author")
    world.follow("reader", "star")
    world.level = Level.CRITICAL
    for tweet_id in (50, 51, 52):
        world.timelines.fan_out(world.tweet("author", tweet_id))
    for tweet_id in (60, 61, 62):
        world.timelines.fan_out(world.tweet("star", tweet_id))
    world.cache.defer("author", 49)  # deferred, then lost from DynamoDB (never stored): skipped, not fatal
    world.level = Level.NORMAL

    assert world.timelines.catch_up(max_tweets=4) == 4  # the author's 4 (49 included); the star waits
    assert world.cache.ids("reader") == [52, 51, 50]
    assert world.timelines.catch_up(max_tweets=4) == 3
    assert world.cache.ids("reader") == [62, 61, 60, 52, 51, 50]


def test_given_deferred_tweets_when_paging_a_home_timeline_then_the_pulled_ones_page_with_the_rest(world):
    world.live("reader")
    world.follow("reader", "author")
    world.level = Level.CRITICAL
    for tweet_id in range(70, 76):
        world.timelines.fan_out(world.tweet("author", tweet_id))

    first = world.timelines.home("reader", cursor=None, limit=3)
    second = world.home_ids("reader", limit=3, cursor=first.next_cursor)

    assert [e.tweet.tweet_id for e in first.items] == [75, 74, 73]
    assert second == [72, 71, 70]


def test_given_a_catch_up_bounded_per_call_when_many_were_deferred_then_each_call_pushes_the_oldest_next(world):
    world.live("reader")
    world.follow("reader", "author")
    world.level = Level.CRITICAL
    for tweet_id in range(100, 110):
        world.timelines.fan_out(world.tweet("author", tweet_id))
    world.level = Level.NORMAL

    assert world.timelines.catch_up(max_tweets=4) == 4
    assert world.cache.ids("reader") == [103, 102, 101, 100]
    assert world.timelines.catch_up(max_tweets=100) == 6
    assert world.cache.ids("reader") == list(range(109, 99, -1))


def test_given_a_popular_author_deferred_when_caught_up_then_its_followers_pages_go_to_the_workers(world):
    for i in range(3):
        world.follow(f"fan{i}", "author")
    world.level = Level.CRITICAL
    world.timelines.fan_out(world.tweet("author", 40))
    assert world.pages.sends == []
    world.level = Level.NORMAL

    world.timelines.catch_up()

    (sent,) = world.pages.sends
    assert sent[0].tweet_id == 40


# --- the controller: pure rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signals", "level"),
    [
        (QUIET, Level.NORMAL),
        (Signals(api_p99_ms=1_000, api_errors=0, api_requests=100, iterator_age_ms=None), Level.ADVISORY),
        (Signals(api_p99_ms=6_000, api_errors=0, api_requests=100, iterator_age_ms=None), Level.CRITICAL),
        (Signals(api_p99_ms=None, api_errors=30, api_requests=100, iterator_age_ms=None), Level.SURVIVAL),
        (Signals(api_p99_ms=None, api_errors=5, api_requests=9, iterator_age_ms=None), Level.NORMAL),  # too few
        (Signals(api_p99_ms=None, api_errors=5, api_requests=10, iterator_age_ms=None), Level.SURVIVAL),  # enough
        (Signals(api_p99_ms=200, api_errors=0, api_requests=0, iterator_age_ms=400_000), Level.WARNING),
        (Signals(api_p99_ms=None, api_errors=0, api_requests=0, iterator_age_ms=None), Level.NORMAL),  # no data
    ],
)
def test_given_signals_when_judged_then_the_worst_signal_calls_for_its_level(signals, level):
    assert called_for(signals, TUNING)[0] is level


def test_given_calm_when_a_signal_crosses_a_threshold_then_the_level_goes_up_at_once_saying_why():
    state = decide(ControllerState(calm_runs=2), Signals(11_000, 0, 100, None), TUNING)

    assert (state.level, state.calm_runs) == (Level.SURVIVAL, 0)
    assert state.reason == "up: p99 latency 1.1e+04ms >= 1e+04ms"
    two = decide(ControllerState(), Signals(3_000, 0, 100, 400_000), TUNING)  # both call for level 2
    assert two.reason == "up: p99 latency 3000ms >= 2500ms"  # the first signal to call for it is named
    quiet = decide(ControllerState(calm_runs=4), QUIET, TUNING)
    assert (quiet.level, quiet.calm_runs, quiet.reason) == (
        Level.NORMAL,
        0,
        "every signal is below level 1's thresholds",
    )


def test_given_a_raised_level_when_signals_calm_then_it_steps_down_one_level_after_calm_runs_only():
    state = ControllerState(level=Level.CRITICAL)
    levels, reasons = [], []
    for _ in range(7):
        state = decide(state, QUIET, TUNING)
        levels.append(state.level)
        reasons.append(state.reason)

    assert levels == [3, 3, 2, 2, 2, 1, 1]
    assert reasons[:3] == ["calm run 1 of 3", "calm run 2 of 3", "down after 3 calm runs"]
    assert state.calm_runs == 1


def test_given_a_signal_hovering_just_under_a_threshold_when_judged_then_the_level_holds_no_flapping():
    """Under level 2's threshold but above 70% of it: not calm enough to leave level 2."""
    state = ControllerState(level=Level.WARNING, calm_runs=2)
    hovering = Signals(api_p99_ms=2_000, api_errors=0, api_requests=100, iterator_age_ms=None)  # 2,500 calls for 2

    for _ in range(10):
        state = decide(state, hovering, TUNING)
        assert state.level is Level.WARNING
        assert state.calm_runs == 0  # and the calm runs count again from zero
        assert state.reason == "holding: p99 latency 2000ms >= 1750ms (clear ratio)"


def test_given_calm_runs_interrupted_when_a_spike_comes_then_they_count_again_from_zero():
    state = ControllerState(level=Level.WARNING)
    state = decide(state, QUIET, TUNING)
    state = decide(state, QUIET, TUNING)
    state = decide(state, Signals(2_600, 0, 100, None), TUNING)  # level 2 again
    assert (state.level, state.calm_runs) == (Level.WARNING, 0)


# --- the controller: one run, and its handler ---------------------------------------------------------------------


def test_given_fed_metrics_when_the_controller_runs_then_it_writes_its_level_only_when_its_state_moves():
    store = FakeLevelStore()
    controller = DegradationController(store, FakeMetrics(QUIET), TUNING)

    controller.run()
    assert store.writes == 0  # level 0, calm: nothing to write

    controller.metrics = FakeMetrics(Signals(3_000, 0, 100, 0))
    run = controller.run()
    assert (run.before.level, run.auto.level, run.effective) == (Level.NORMAL, Level.WARNING, Level.WARNING)
    assert store.writes == 1
    assert store.auto.level is Level.WARNING


def test_given_a_manual_level_when_the_controller_runs_then_the_manual_level_wins_and_the_controller_keeps_deciding():
    store = FakeLevelStore(manual=Level.NORMAL)
    run = DegradationController(store, FakeMetrics(Signals(6_000, 0, 100, 0)), TUNING).run()

    assert run.effective is Level.NORMAL
    assert store.auto.level is Level.CRITICAL  # ready for when the operator hands back


def test_given_the_tuning_of_a_stage_when_read_then_json_with_defaults_for_what_it_leaves_out():
    tuning = Tuning.model_validate_json('{"window_s": 60, "calm_runs": 2, "min_requests": 10}')

    assert (tuning.window_s, tuning.calm_runs, tuning.p99_ms) == (60, 2, (1_000, 2_500, 5_000, 10_000))


def test_given_level_3_when_a_retweet_is_deferred_then_its_author_timeline_indexes_what_it_shows(world):
    # Given fan-out on write off, when a user retweets, then their own timeline's entry is indexed as a retweet
    # of the original, as a pushed retweet's would be (the auditor reported it as unindexed until caught up).
    world.live("retweeter")
    world.tweet("author", 40)
    world.level = Level.CRITICAL

    world.timelines.fan_out(world.tweet("retweeter", 41, text="", retweet_of_id=40))

    assert world.cache.retweet_index["retweeter"] == {41: 40}
