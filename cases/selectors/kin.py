"""Reads of the 回避登记: a user's own, and who has registered (for an
administrator, masked)."""

from django.db.models import Count, Exists, OuterRef, QuerySet

from accounts.models import Membership, User
from accounts.scoping import units_for

from ..models.kin import KinRegistration, KinRelative

ADMIN = "config.manage"


def relatives_of(user: User) -> QuerySet[KinRelative]:
    return KinRelative.objects.filter(user=user).order_by("id")


def registrations_seen_by(user: User) -> QuerySet[KinRegistration]:
    """Registrations of users holding a role in the administrator's unions,
    newest first, with how many relatives each registered."""
    staff = Membership.objects.filter(user_id=OuterRef("user_id"), unit__in=units_for(user, ADMIN))
    return (
        KinRegistration.objects.filter(Exists(staff))
        .select_related("user")
        .annotate(relatives=Count("user__kin_relatives"))
        .order_by("-updated_at", "-id")
    )
