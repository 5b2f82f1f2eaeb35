"""Login lockout: django-axes with a second, per-address limit.

Axes locks a username at one client address after AXES_FAILURE_LIMIT
failures (AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]), so an
attacker who hammers the chair's name locks out only himself, never the
chair at her own desk. That alone would let one address try a few passwords
for every username in turn; this handler also counts the failures of one
address across all usernames and locks the address once they reach
LOGIN_FAILURES_PER_ADDRESS within the same cool-off window.
"""

from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Sum


def address_failures(request: Any) -> int:
    """Failed sign-ins from the request's client address, any username,
    within the cool-off window."""
    address = getattr(request, "axes_ip_address", None)
    if not address:
        return 0
    attempts = AccessAttempt.objects.filter(ip_address=address)
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def _locks_at_failure() -> bool:
    # axes.conf fills in its defaults at import; read it the same way.
    return bool(getattr(settings, "AXES_LOCK_OUT_AT_FAILURE", True))


def address_limit_reached(request: Any) -> bool:
    limit = settings.LOGIN_FAILURES_PER_ADDRESS
    return bool(limit) and address_failures(request) >= limit


class AddressLimitHandler(AxesDatabaseHandler):
    def is_locked(self, request: Any, credentials: dict | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        if _locks_at_failure() and address_limit_reached(request):
            # The lockout page tells the person it is the address, not the name.
            request.login_locked_by_address = True
            return True
        return False

    def user_login_failed(
        self, sender: Any, credentials: dict, request: Any = None, **kwargs: Any
    ) -> None:
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            return
        if self.is_whitelisted(request, credentials):
            return
        if _locks_at_failure() and address_limit_reached(request):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            request.login_locked_by_address = True
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
            )
