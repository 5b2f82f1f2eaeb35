"""`make run`: the development instance of base.py, showing the product's
own error pages.

base.py with nothing configured is a development instance (the demo data,
the demo password, no second factor for demo users). Only Django's DEBUG
pages are switched off here: with DEBUG on, a mistyped address or a changed
id shows Django's English technical page listing every URL, which is not
what a person trying the product should see. Tracebacks still go to the
console through the logging set up in base.py.
"""

from .base import *  # noqa: F403

DEBUG = False
# What DEBUG would have given: static files straight from static/ (and the
# apps), picked up as they change, served by WhiteNoise as in production,
# with no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Still the demo instance: the published demo password stays usable here
# (accounts.passwords refuses it wherever DEBUG is off unless told).
PASSWORD_REFUSE_DEMO = False
