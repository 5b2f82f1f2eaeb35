"""Who may do what, where. Every view asks here.

A role held at a unit covers that unit and every unit below it. A view first
asks whether the user holds a role that allows the action anywhere (if not:
403), then looks the object up inside the units that role covers (if it is not
there: 404, so nobody learns that a record in another union exists).
"""

from functools import reduce
from operator import or_
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import F, Func, Model, Q, QuerySet, Subquery
from django.http import Http404

from .masking import mask_name
from .models import Membership, Role, Unit, User

M = TypeVar("M", bound=Model)

ACTIONS: dict[str, frozenset[str]] = {
    "household.view": frozenset({Role.CASEWORKER, Role.CHAIR, Role.FINANCE, Role.AUDITOR}),
    "household.edit": frozenset({Role.CASEWORKER, Role.CHAIR}),
    # Evaluating, confirming, rejecting, exits: a chair's decisions.
    "case.decide": frozenset({Role.CHAIR}),
    "audit.view": frozenset({Role.ADMIN, Role.AUDITOR}),
    # The hash-chained trail's export (审计核验包): every union's rows, so
    # only an auditor at the top (reports/audit_export.py).
    "audit.export": frozenset({Role.AUDITOR}),
    # Receiving, paying, transferring and reversing money.
    "fund.manage": frozenset({Role.FINANCE}),
    # Reading funds, balances and ledgers: those who answer for the money.
    "fund.view": frozenset({Role.FINANCE, Role.CHAIR, Role.AUDITOR}),
    "config.manage": frozenset({Role.ADMIN}),
    # Sending households' data to civil affairs (民政数据比对) and taking the
    # answer back: ID numbers leave the product, so a chair's decision only.
    "civil.exchange": frozenset({Role.CHAIR}),
    # 回访核实: who reads the samples, who calls or visits the households
    # (the cadres who know them; finance pays, so never), who settles the
    # cases a visit opens, who sees those cases, who sets a union's share.
    "verification.view": frozenset({Role.CASEWORKER, Role.CHAIR, Role.AUDITOR}),
    "verification.record": frozenset({Role.CASEWORKER, Role.CHAIR}),
    "verification.settle": frozenset({Role.CHAIR}),
    "verification.cases": frozenset({Role.CHAIR, Role.AUDITOR}),
    "verification.configure": frozenset({Role.CHAIR, Role.ADMIN}),
}

# Roles that see full personal data in their units; auditors only when granted.
UNMASKED_ROLES = frozenset({Role.CASEWORKER, Role.CHAIR, Role.FINANCE})


# How many root unions there are, read with the memberships (covers_everything).
_ROOT_UNITS = Subquery(
    Unit.objects.filter(parent__isnull=True)
    .order_by()
    .annotate(n=Func(F("pk"), function="COUNT"))
    .values("n")
)


def memberships(user: User) -> list[Membership]:
    """The user's memberships with their units, loaded once per request."""
    cached = getattr(user, "_memberships_cache", None)
    if cached is None:
        if not user.is_authenticated:
            cached = []
        else:
            cached = list(
                Membership.objects.filter(user=user)
                .select_related("unit")
                .annotate(root_units=_ROOT_UNITS)
            )
        user._memberships_cache = cached  # type: ignore[attr-defined]
    return cached


def roles_for(user: User, action: str) -> list[Membership]:
    allowed = ACTIONS[action]
    return [m for m in memberships(user) if m.role in allowed and m.unit.is_active]


def has_action(user: User, action: str) -> bool:
    return bool(roles_for(user, action))


def require_action(user: User, action: str) -> list[Membership]:
    granted = roles_for(user, action)
    if not granted:
        raise PermissionDenied
    return granted


def unit_q(paths: list[str], prefix: str = "") -> Q:
    """Q matching units whose path starts with any of `paths`."""
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{prefix}path__startswith": p}) for p in _roots(paths)))


def _roots(paths: list[str]) -> list[str]:
    # A unit below another one the user already covers adds nothing.
    roots: list[str] = []
    for path in sorted(set(paths)):
        if not any(path.startswith(r) for r in roots):
            roots.append(path)
    return roots


def covers_everything(granted: list[Membership]) -> bool:
    """Do these memberships sit at every root union, so they cover every row?
    Then a list needs no scope filter (and no join to the unions) at all."""
    tops = {m.unit.path for m in granted if m.unit.parent_id is None}
    if not tops:
        return False
    counted = getattr(granted[0], "root_units", None)
    if counted is not None:
        # Every top is a root: as many tops as roots is every root.
        return len(tops) >= counted
    roots = Unit.objects.filter(parent__isnull=True).values_list("path", flat=True)
    return set(roots) <= tops


def scope_q(user: User, actions: tuple[str, ...], prefix: str) -> Q | None:
    """Rows whose unit (reached through `prefix`) lies in the units where the
    user holds any of `actions`; None when the user holds none of them."""
    paths = [m.unit.path for action in actions for m in roles_for(user, action)]
    if not paths:
        return None
    return unit_q(paths, prefix=prefix)


def units_for(user: User, action: str) -> QuerySet[Unit]:
    """Units the user may act in; lazy, so it nests as a subquery."""
    granted = roles_for(user, action)
    return Unit.objects.filter(unit_q([m.unit.path for m in granted]))


def covers(user: User, action: str, unit: Unit) -> bool:
    return any(m.unit.covers(unit) for m in roles_for(user, action))


def can_unmask(user: User, unit: Unit) -> bool:
    """May this user see full ID numbers, phones and addresses in `unit`?"""
    for m in memberships(user):
        if not m.unit.is_active or not m.unit.covers(unit):
            continue
        if m.role in UNMASKED_ROLES or (m.role == Role.AUDITOR and m.sees_unmasked):
            return True
    return False


class Unmasker:
    """Whether a person sees the personal data of a union's households in
    full, and a household's name as they see it: in full, or 张** for an
    auditor without the grant. Asked of `can_unmask` once per union, so a
    100,000-row ledger costs a dictionary lookup a row. The ledger pages,
    the money documents and the API's household references all use it."""

    def __init__(self, user: User) -> None:
        self.user = user
        self._seen: dict[str, bool] = {}

    def __call__(self, unit_path: str) -> bool:
        seen = self._seen.get(unit_path)
        if seen is None:
            seen = self._seen[unit_path] = can_unmask(self.user, Unit(path=unit_path))
        return seen

    def name(self, name: str, unit_path: str | None) -> str:
        if not name or unit_path is None:
            return name or ""
        return name if self(unit_path) else mask_name(name)


def get_scoped(
    user: User,
    queryset: QuerySet[M],
    pk: object,
    *,
    action: str | tuple[str, ...],
    unit_field: str = "unit",
) -> M:
    """One object by pk if the user may do `action` on it: 403 without the
    role anywhere, 404 when its unit lies outside the units the role covers.
    A page that several actions open passes them as a tuple: any one will do."""
    actions = (action,) if isinstance(action, str) else action
    if not any(roles_for(user, a) for a in actions):
        raise PermissionDenied
    try:
        pk = int(pk)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise Http404 from None
    scope = Q()
    for a in actions:
        scope |= Q(**{f"{unit_field}__in": units_for(user, a)})
    obj = queryset.filter(scope, pk=pk).first()
    if obj is None:
        raise Http404
    return obj
