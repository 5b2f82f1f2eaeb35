"""Weighted choices drawn from a seeded generator."""

import bisect
import itertools
import random
from collections.abc import Sequence
from typing import Any


def words(text: str) -> list[str]:
    return text.split()


class Weighted:
    """A weighted choice with the cumulative table built once: `rng.choices`
    rebuilds it on every call, which shows up at 100,000 households."""

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.values = [value for value, _weight in pairs]
        self.cumulative = list(itertools.accumulate(weight for _value, weight in pairs))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> Any:
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.total)]
