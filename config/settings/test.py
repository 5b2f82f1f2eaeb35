"""Settings for the test suite: fast hashing, isolated storage."""

import copy
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASES

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The second factor is on as in production; tests/conftest.py makes
# client.force_login complete it, the OTP tests sign in as a person would.
OTP_EXEMPT_DEMO = False
# Query-count tests count a page as its first visitor finds it: the reference
# lists read from the database (tests/accounts/test_refcache.py turns the
# store on and checks it).
REFERENCE_CACHE_SECONDS = 0
PRIVATE_STORAGE_ROOT = Path(tempfile.mkdtemp(prefix="hardship-private-"))
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_STORAGE_ROOT, "base_url": None},
    },
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests build their own throw-away database; never touch the demo one.
    _dir = tempfile.mkdtemp(prefix="hardship-db-")
    DATABASES["default"]["NAME"] = f"{_dir}/test.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": DATABASES["default"]["NAME"]}
# "replica" names the same test database (a mirror), so a test may turn
# REPLICA_READS on and see statistics read through that alias; off, every
# read goes to "default" as on a server without a replica.
DATABASES["replica"] = {**copy.deepcopy(DATABASES["default"]), "TEST": {"MIRROR": "default"}}
DATABASES["replica"].get("OPTIONS", {}).pop("pool", None)
REPLICA_READS = False
LOGGING = {"version": 1, "disable_existing_loggers": False}
