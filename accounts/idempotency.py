"""A key a client gives a write (a phone's visit draft, an API call's
Idempotency-Key): the same request sent again answers with what the first
one wrote. The same key sent with something else is not the same request,
and is refused rather than answered with another record."""

from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.translation import gettext as _

M = TypeVar("M", bound=Model)


def replay_of(earlier: M | None, **same: Model) -> M | None:
    """`earlier` (the record first written under the key) when it was
    written for the same objects as this request; None when there is none; a
    ValidationError on `client_key` when the key was used for other ones."""
    if earlier is None:
        return None
    for name, obj in same.items():
        if getattr(earlier, f"{name}_id") != obj.pk:
            raise ValidationError(
                {
                    "client_key": _(
                        "这个提交标识已用于另一条记录，不能再用于这次提交；"
                        "请为新的提交使用新的标识。"
                    )
                }
            )
    return earlier
