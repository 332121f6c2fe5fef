"""Medians, percentiles and timings of the benchmarks."""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import Any

RUNS = 5  # default repetitions of a measurement; the median of the runs is reported


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def percentile(values: Iterable[float], p: float) -> float:
    """The p-th percentile (p in 0..100), interpolated linearly between closest ranks: numpy's default, which
    is statistics.quantiles' "inclusive" method. NaN for no values."""
    data = sorted(values)
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, not {p}")
    if not data:
        return math.nan
    if len(data) == 1:  # statistics.quantiles needs two points before Python 3.13
        return data[0]
    fraction = Fraction(str(p)) / 100  # p = k/n exactly: the k-th of the n-quantiles' cut points
    if fraction.numerator == 0:
        return data[0]
    if fraction == 1:
        return data[-1]
    return statistics.quantiles(data, n=fraction.denominator, method="inclusive")[fraction.numerator - 1]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def samples_per_call(fn: Callable[[], Any], calls: int) -> list[float]:
    """Seconds of each of `calls` successive calls of fn."""
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def median_per_call(fn: Callable[[], Any], calls: int) -> float:
    """Median seconds of `calls` successive calls of fn."""
    return median(samples_per_call(fn, calls))


def interleaved_medians(fns: list[Callable[[], Any]], calls: int) -> list[float]:
    """Median seconds per call of each fn, the fns called in turn `calls` times: a load that comes and goes on a
    shared machine then weighs on each alike, so their ratios hold where timing one after the other would not.
    Each round calls them in a new order (shuffled, seeded), so that each fn follows each other about equally
    often: what one leaves behind (its garbage to collect, the CPU caches it filled) weighs on whichever runs next,
    and in a fixed order that is always the same fn."""
    samples: list[list[float]] = [[] for _ in fns]
    order, shuffle = list(range(len(fns))), random.Random(len(fns)).shuffle
    for _ in range(calls):
        shuffle(order)
        for index in order:
            started = time.perf_counter()
            fns[index]()
            samples[index].append(time.perf_counter() - started)
    return [median(seconds) for seconds in samples]
