"""Demo and benchmark data: the demo city union, its users, fake household
files and a year of money work.

The rightmost layer: it may use every other app and none uses it. It is
installed for development, `make run` and the tests, and left out of the
production settings, so a real server has no `seed_demo` command at all.
"""
