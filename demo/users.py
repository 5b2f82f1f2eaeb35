"""The demo accounts, one per role, all with the published demo password."""

from dataclasses import dataclass

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from accounts.models import Membership, Role, Unit, User
from accounts.passwords import DEMO_PASSWORD
from accounts.services import membership_grant

from .unions import CITY, COUNTY


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: str
    unit_code: str


# One user per role, plus a caseworker in a second county: signed in as both,
# one sees that neither can reach the other's households.
USERS = [
    DemoUser("demo_caseworker", "张丽娟", Role.CASEWORKER, COUNTY),
    DemoUser("demo_caseworker2", "刘建波", Role.CASEWORKER, "410103"),
    DemoUser("demo_chair", "陈红梅", Role.CHAIR, COUNTY),
    DemoUser("demo_finance", "杜志伟", Role.FINANCE, COUNTY),
    DemoUser("demo_auditor", "吴秀芳", Role.AUDITOR, CITY[0]),
    DemoUser("demo_admin", "方正", Role.ADMIN, CITY[0]),
]
# The city union's chair approves above the county's limits (and sits on the
# mutual-aid committee); its finance officer keeps the city's funds; a second
# 金水区 caseworker, who drafts nothing, calls and visits paid households
# (回访核实). Added by `seed_demo_money`.
MONEY_USERS = [
    DemoUser("demo_chair_city", "高建华", Role.CHAIR, CITY[0]),
    DemoUser("demo_finance_city", "孙丽萍", Role.FINANCE, CITY[0]),
    DemoUser("demo_verifier", "王晓燕", Role.CASEWORKER, COUNTY),
]
# What the demo administrator may edit in the Django admin. Deliberately not
# a superuser: household files stay out of its reach there.
ADMIN_MODELS = [("accounts", "unit"), ("accounts", "membership"), ("accounts", "user"),
                ("cases", "tier"), ("cases", "cause")]  # fmt: skip

# Printed instead of the password of an account whose password was changed.
CHANGED = "（已修改，非演示密码）"

DemoUsers = dict[str, tuple[User, bool]]  # username → (user, demo password still opens it)


def users_ensure(specs: list[DemoUser], units: dict[str, Unit]) -> DemoUsers:
    """Each demo user, created with the demo password when missing, with its
    role; and whether the demo password still opens it."""
    users: DemoUsers = {}
    for spec in specs:
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = User(username=spec.username, full_name=spec.full_name)
            user.set_password(DEMO_PASSWORD)
            user.save()
            usable = True
        else:
            usable = user.check_password(DEMO_PASSWORD)
        unit = units[spec.unit_code]
        if not Membership.objects.filter(user=user, unit=unit, role=spec.role).exists():
            membership_grant(actor=None, user=user, unit=unit, role=spec.role)
        if spec.role == Role.ADMIN:
            _make_staff(user)
        users[spec.username] = (user, usable)
    return users


def _make_staff(user: User) -> None:
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    content_types = [ContentType.objects.get_by_natural_key(*m) for m in ADMIN_MODELS]
    user.user_permissions.add(*Permission.objects.filter(content_type__in=content_types))


def login_rows(specs: list[DemoUser], users: DemoUsers, units: dict[str, Unit]) -> list[list[str]]:
    """[username, password, role, union] per demo user, for the console."""
    rows = []
    for spec in specs:
        user, usable = users[spec.username]
        password = DEMO_PASSWORD if usable else CHANGED
        role = f"{spec.role} {Role(spec.role).label}"
        rows.append([user.username, password, role, units[spec.unit_code].name])
    return rows
