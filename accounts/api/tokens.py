"""API tokens: made and revoked by their owner on the account page (or by an
administrator for anyone), shown once, stored only as a SHA-256 digest.

A key is random (256 bits), so a plain SHA-256 is enough to keep it: there
is nothing to guess from a digest, and looking a key up by its digest needs
no slow hash on every API call."""

import datetime
import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ..audit import audit_record
from ..models import ApiToken, User
from ..scoping import has_action

KEY_PREFIX = "hbk_"
# The characters kept to tell keys apart: the fixed prefix and 6 random ones.
SHOWN = len(KEY_PREFIX) + 6
MAX_ACTIVE = 10
NAME_MAX = 50
# last_used_at is written at most this often per token: an API call is a
# read, and a write per read would double the database's work.
TOUCH_EVERY = datetime.timedelta(seconds=60)


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def may_manage(actor: User, user: User) -> bool:
    """The owner, or an administrator for anyone."""
    return actor.pk == user.pk or actor.is_superuser or has_action(actor, "config.manage")


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).select_related("created_by", "revoked_by")


@transaction.atomic
def api_token_create(*, actor: User, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for `user`; returns it with its key, which is never
    stored and cannot be shown again."""
    if not may_manage(actor, user):
        raise PermissionDenied(_("只能为自己创建 API 令牌。"))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写令牌用途，例如“上级工会数据对接”。")})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": _("用途最多 %(n)d 个字。") % {"n": NAME_MAX}})
    # Lock the owner's row: two clicks at once cannot pass the limit together.
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE:
        raise ValidationError(
            {
                "name": _("每个用户最多同时持有 %(n)d 个有效令牌，请先撤销不用的令牌。")
                % {"n": MAX_ACTIVE}
            }
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=key[:SHOWN], digest=digest_of(key), created_by=actor
    )
    audit_record(
        actor=actor,
        action="api_token.create",
        obj=token,
        changes={"user": [None, user.username], "name": [None, name]},
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Stop a token at once; revoking it again changes nothing."""
    token = ApiToken.objects.select_for_update(no_key=True).select_related("user").get(pk=token.pk)
    if not may_manage(actor, token.user):
        raise PermissionDenied(_("只能撤销自己的 API 令牌。"))
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.revoked_by = actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        action="api_token.revoke",
        obj=token,
        changes={"user": [None, token.user.username]},
    )
    return token


def token_for_key(key: str) -> ApiToken | None:
    """The live token of an active user with this key, or None."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=digest_of(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    return token


def token_touch(token: ApiToken) -> None:
    """Note when the token was last used, at most once a minute."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_EVERY)
    ).update(last_used_at=now)
    token.last_used_at = now
