import pytest

from chirp.trends.rules import HALF_LIFE_H, MIN_ACCOUNTS, score


def test_given_fewer_accounts_than_the_minimum_when_scored_then_the_tag_does_not_trend():
    assert score(MIN_ACCOUNTS - 1, 0, 0) == 0


def test_given_no_growth_over_yesterday_when_scored_then_the_tag_does_not_trend():
    assert score(10, 10, 0) == 0
    assert score(10, 20, 0) == 0


def test_given_growth_when_scored_then_the_score_is_the_squared_excess_over_expected():
    assert score(12, 2, 0) == pytest.approx((12 - 2) ** 2 / 2)
    assert score(6, 0, 0) == pytest.approx((6 - 1) ** 2 / 1)  # expected is at least one account


def test_given_time_since_last_use_when_scored_then_it_halves_every_half_life():
    fresh = score(12, 2, 0)
    assert score(12, 2, HALF_LIFE_H) == pytest.approx(fresh / 2)
    assert score(12, 2, 2 * HALF_LIFE_H) == pytest.approx(fresh / 4)
