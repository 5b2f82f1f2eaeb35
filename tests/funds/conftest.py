"""The money fixtures of tests/programs (a funded fund, the 送温暖 program, a
filed household) for the fund tests that pay applications."""

from tests.programs.conftest import cathy, festival, fund, household, tier  # noqa: F401
