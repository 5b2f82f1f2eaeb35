"""One seeded generator for every fake value, and the reference day that
decides ages and school grades.

The same seed and the same day give the same data.
"""

import datetime
import random

from django.utils import timezone

from . import places, schools
from .people import Person, person


class Faker:
    """People, contact details, bank cards and schools from one generator."""

    def __init__(self, seed: int, *, today: datetime.date | None = None) -> None:
        self.rng = random.Random(seed)
        self.today = today or timezone.localdate()
        self.school_day = datetime.date(schools.school_year_start(self.today), 9, 1)

    def person(
        self, number: str, birth: datetime.date, male: bool, surname: str | None = None
    ) -> Person:
        return person(self.rng, number, birth, male, surname)

    def phone(self) -> str:
        return places.phone(self.rng)

    def address(self, area_code: str | None = None) -> str:
        return places.address(self.rng, area_code)

    def bank(self) -> tuple[str, str, str]:
        return places.bank(self.rng)

    def school(self, birth: datetime.date) -> tuple[str, str, str]:
        """(stage, school, grade) of a child born on `birth`, this school year."""
        return schools.school(self.rng, birth, self.school_day)
