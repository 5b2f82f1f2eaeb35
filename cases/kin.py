"""回避 (conflict of interest): the one matching rule.

A staff member conflicts with a household when the household head's or a
member's ID number is their own or a close relative's they registered
(cases.models.kin), or the household's phone or address is theirs. ID numbers
are compared as keyed hashes (`id_digest`): the registrations never hold a
number in the clear, the household's numbers are hashed the same way at the
moment of the check.

`kin_match` is the rule; the service guard (programs.services.conflicts),
the registration page and the tests all call it, so they cannot drift apart.
"""

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import CharField, Value
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User

from . import idnumber
from .choices import Relation
from .models import Household
from .models.kin import KinRegistration, KinRelative

# An address this short ("北京市") says nothing about who lives there.
MIN_ADDRESS_KEY = 6
_NOT_ADDRESS = re.compile(r"[\s\W_]+", re.UNICODE)

SELF_ID = "self_id"
RELATIVE_ID = "relative_id"
PHONE = "phone"
ADDRESS = "address"

REASON_LABELS = {
    SELF_ID: gettext_lazy("本人身份证号"),
    RELATIVE_ID: gettext_lazy("亲属身份证号"),
    PHONE: gettext_lazy("联系电话"),
    ADDRESS: gettext_lazy("家庭住址"),
}


def _key() -> bytes:
    """settings.KIN_ID_HASH_KEY; unset (development), one derived from
    SECRET_KEY. Changing the key makes every registration stale: staff must
    register their numbers again (docs/conflict-of-interest.md)."""
    key = getattr(settings, "KIN_ID_HASH_KEY", "") or ""
    if key:
        return key.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"kin-id-hash", hashlib.sha256).digest()


def id_digest(number: str) -> str:
    """HMAC-SHA256 of an ID number as the household file stores it (folded
    by cases.idnumber.normalize); "" for an empty number."""
    folded = idnumber.normalize(number)
    if not folded:
        return ""
    return hmac.new(_key(), folded.encode(), hashlib.sha256).hexdigest()


def phone_key(value: str) -> str:
    """Digits only, without a +86 / 0086 prefix: 138-0000-1111 is 13800001111."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", value or "") if ch.isdigit())
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            digits = digits[len(prefix) :]
    return digits if len(digits) >= 7 else ""


def address_key(value: str) -> str:
    """Full-width folded, spaces and punctuation dropped: "金水路 12 号 3-201"
    and "金水路12号3－201" are one address. Too short to name a home: ""."""
    folded = _NOT_ADDRESS.sub("", unicodedata.normalize("NFKC", value or "")).lower()
    return folded if len(folded) >= MIN_ADDRESS_KEY else ""


@dataclass(frozen=True)
class Match:
    """One reason the user conflicts with a household."""

    code: str
    relation: str = ""
    name: str = ""  # the relative's name, as the user registered it

    @property
    def stored(self) -> str:
        """As kept on a flag: the relation, never the relative's name."""
        return f"{RELATIVE_ID}:{self.relation}" if self.code == RELATIVE_ID else self.code

    def for_actor(self) -> str:
        """What the refused user is told: only what they registered themselves,
        never which of the household's people matched."""
        if self.code == SELF_ID:
            return _("该家庭户主或成员的身份证号与您本人的身份证号相同")
        if self.code == RELATIVE_ID:
            return _("该家庭户主或成员的身份证号与您登记的亲属（%(r)s %(n)s）相同") % {
                "r": Relation(self.relation).label if self.relation in Relation.values else "",
                "n": self.name,
            }
        if self.code == PHONE:
            return _("该家庭的联系电话与您的联系电话相同")
        return _("该家庭的住址与您登记的家庭住址相同")


def reason_label(stored: str) -> str:
    """A flag's stored reason for a report: 亲属身份证号（配偶）."""
    code, _sep, relation = stored.partition(":")
    label = str(REASON_LABELS.get(code, code))
    if relation:
        shown = Relation(relation).label if relation in Relation.values else relation
        label = _("%(l)s（%(r)s）") % {"l": label, "r": shown}
    return label


@dataclass
class Kin:
    """What one user registered, ready to match: digest → (relation, name)."""

    own: str = ""
    relatives: dict[str, tuple[str, str]] = field(default_factory=dict)
    phone: str = ""
    address: str = ""

    @property
    def empty(self) -> bool:
        return not (self.own or self.relatives or self.phone or self.address)


_remembered: ContextVar[dict[int, Kin] | None] = ContextVar("kin_remembered", default=None)


def kin_of(user: User) -> Kin:
    """The user's registration (one query), or the one `remembering_kin`
    already read for this user."""
    memo = _remembered.get()
    if memo is not None and user.pk in memo:
        return memo[user.pk]
    # One query for both: the own entry ("" relation) and the relatives.
    own = (
        KinRegistration.objects.filter(user_id=user.pk)
        .order_by()
        .values_list(Value("", output_field=CharField()), "id_digest", "address")
    )
    relatives = (
        KinRelative.objects.filter(user_id=user.pk)
        .order_by()
        .values_list("relation", "id_digest", "name")
    )
    kin = Kin(phone=phone_key(user.phone))
    for relation, digest, text in own.union(relatives, all=True):
        if relation:
            kin.relatives[digest] = (relation, text)
        else:
            kin.own, kin.address = digest, address_key(text)
    if memo is not None:
        memo[user.pk] = kin
    return kin


@contextmanager
def remembering_kin() -> Iterator[None]:
    """Read each user's registration once inside the block (a batch of 2,000
    drafts checks one drafter 2,000 times)."""
    token = _remembered.set({})
    try:
        yield
    finally:
        _remembered.reset(token)


def kin_match(kin: Kin, *, id_numbers: Iterable[str], phone: str, address: str) -> list[Match]:
    """The rule: every reason `kin` conflicts with people holding these ID
    numbers and reachable at this phone and address. Empty: no conflict."""
    if kin.empty:
        return []
    found: list[Match] = []
    digests = {id_digest(n) for n in id_numbers if n}
    digests.discard("")
    if kin.own and kin.own in digests:
        found.append(Match(SELF_ID))
    for digest in sorted(digests & kin.relatives.keys()):
        relation, name = kin.relatives[digest]
        found.append(Match(RELATIVE_ID, relation=relation, name=name))
    if kin.phone and phone_key(phone) == kin.phone:
        found.append(Match(PHONE))
    if kin.address and address_key(address) == kin.address:
        found.append(Match(ADDRESS))
    return found


def household_match(kin: Kin, household: Household) -> list[Match]:
    """`kin_match` against a household's head and members (one query for the
    members, none when they are prefetched or the user registered nothing)."""
    if kin.empty:
        return []
    members = [m.id_number for m in household.members.all()]
    return kin_match(
        kin,
        id_numbers=[household.id_number, *members],
        phone=household.phone,
        address=household.address,
    )
