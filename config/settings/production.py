"""Production: PostgreSQL via DATABASE_URL, real secrets, HTTPS only."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env

from .base import *  # noqa: F403

DEBUG = False
# A real server has no demo data commands: they publish a password.
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "demo"]  # noqa: F405


def _required(name: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable for production.")
    return value


SECRET_KEY = _required("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set DJANGO_ALLOWED_HOSTS to the host names this server answers.")
if not env.str("DATABASE_URL", default=""):
    raise ImproperlyConfigured("Set DATABASE_URL to the PostgreSQL database.")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

STORAGES = {
    **STORAGES,  # noqa: F405 (the private files' storage from base)
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Behind the HTTPS proxy (TRUSTED_PROXY_COUNT >= 1) the proxy says which
# scheme the browser used; without one nobody may claim it in a header.
# USE_X_FORWARDED_HOST stays off: the proxy passes the Host header through.
if TRUSTED_PROXY_COUNT > 0:  # noqa: F405
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = False
# The second factor is never waived on a real server, and the demo password
# is refused there.
OTP_EXEMPT_DEMO = False
PASSWORD_REFUSE_DEMO = True
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
