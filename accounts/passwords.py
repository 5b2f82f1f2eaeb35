"""Password rules of our own, beside Django's validators."""

from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

# The password `manage.py seed_demo` gives every demo account. It is printed
# on every `make run`, so on a real server it opens nothing.
DEMO_PASSWORD = "bangfu-demo-2025"  # noqa: S105  (published on purpose)


def is_demo_password(password: str) -> bool:
    return constant_time_compare(password or "", DEMO_PASSWORD)


def refuse_demo_password() -> bool:
    refuse = getattr(settings, "PASSWORD_REFUSE_DEMO", None)
    return (not settings.DEBUG) if refuse is None else bool(refuse)


class DemoPasswordValidator:
    """Refuses the published demo password wherever DEBUG is off."""

    def validate(self, password: str, user: Any = None) -> None:
        if refuse_demo_password() and is_demo_password(password):
            raise ValidationError(
                _("这是演示系统公开的密码，正式环境中不能使用，请换一个。"),
                code="password_is_demo",
            )

    def get_help_text(self) -> str:
        return _("不能使用演示系统公开的密码。")


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's length rule with a message of our own: Django 5.2 changed the
    wording of its own and the Chinese catalogue no longer has it."""

    def get_error_message(self) -> str:
        return _("密码太短，至少需要 %(min_length)d 个字符。") % {"min_length": self.min_length}
