"""Retention: a closed file is kept until its retention date (10 years
after the exit, `CaseRules.retention_years`), then anonymised.

Anonymising removes what identifies the people (names, ID numbers, phones,
addresses, bank details, free-text notes, every stored file) and keeps what
the statistics and the accounts count: the unit, status, tier, causes,
dates, amounts, household size, the kinds of visits and help. Rows stay, so
totals, ledgers and fund statements come out the same before and after.

The append-only records (audit trail, status history, ledger, decisions,
votes) keep every row, amount, date, status and actor; only the personal
data in their text goes: the names, ID numbers, phones, address and bank
accounts of the file's people become 已匿名 wherever they appear, and what a person
typed (a reason, a note) becomes 已匿名 unless it is one of the texts the
system writes itself. This is the one code path that rewrites such rows,
and it does so inside `pgtrigger.ignore` for exactly the tables it touches,
in the file's own transaction (see accounts/append_only.py).

Apps to the right of `cases` that keep personal data about a household
(payments, mutual-aid rosters, the ledger) register an `Anonymiser` with
`register_anonymiser`, so one call covers every app without `cases`
importing them.
"""

import datetime
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pgtrigger
from django.conf import settings
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.audit import audit_record
from accounts.chain import Chained, redaction_record, row_content
from accounts.chain_check import content_digest
from accounts.models import AuditEvent, User

from .. import clock
from ..models import (
    Attachment,
    Discussion,
    ExitKind,
    Helper,
    Household,
    HouseholdStatus,
    Member,
    NonCashHelp,
    Objection,
    ReviewItem,
    StatusChange,
    Visit,
    VisitPhoto,
)

log = logging.getLogger(__name__)

ANONYMISED = "已匿名"
# The ID number of an anonymised file: not a person's number, unique per
# file (so the one-active-file-per-ID rule still holds if it were reopened),
# and the mark that the file has been anonymised.
ID_PLACEHOLDER_PREFIX = "匿名"

# The append-only tables this module rewrites (and nothing else may).
AUDIT_TRIGGER = "accounts.AuditEvent:audit_append_only"
STATUS_TRIGGER = "cases.StatusChange:status_change_append_only"

# What a Redaction row says about the rewrite (kept short, in English: it is
# read by the verification script, not by users).
REDACTION_REASON = "retention"

# Shorter words (a one-character name) would blank unrelated text.
MIN_WORD = 2


@dataclass(frozen=True)
class SystemText:
    """A text the system writes itself into a reason or memo, in any of the
    site's languages. Its placeholders hold dates, labels, file numbers,
    staff and file names, except `free`, which holds what a person typed;
    with `tail`, a person's words may follow it. `labels` limits a
    placeholder to the given labels (so "<exit kind>：<reason>" is not
    mistaken for any text with a colon in it)."""

    template: str | Promise
    free: str = ""
    tail: bool = False
    labels: tuple[tuple[str, Callable[[], Iterable[Any]]], ...] = ()

    def patterns(self) -> list[re.Pattern[str]]:
        return _patterns(self)

    def rewrite(self, value: str, redactor: "Redactor") -> str | None:
        """`value` without its free text, or None if it is not this text."""
        for pattern in self.patterns():
            match = pattern.fullmatch(value)
            if match is None:
                continue
            parts, pos = [], 0
            groups = [name for name in match.groupdict() if match.start(name) >= 0]
            for name in sorted(groups, key=match.start):
                start, end = match.span(name)
                parts.append(value[pos:start])
                typed = value[start:end]
                if name in (self.free, "_tail"):
                    stripped = typed.lstrip()
                    parts.append(
                        typed[: len(typed) - len(stripped)] + ANONYMISED if stripped else ""
                    )
                else:
                    parts.append(redactor.text(typed))
                pos = end
            parts.append(value[pos:])
            return "".join(parts)
        return None


_PATTERNS: dict[SystemText, list[re.Pattern[str]]] = {}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _patterns(known: SystemText) -> list[re.Pattern[str]]:
    if known in _PATTERNS:
        return _PATTERNS[known]
    labels = dict(known.labels)
    found = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            pieces = _PLACEHOLDER.split(str(known.template))
            regex = []
            for i, piece in enumerate(pieces):
                if i % 2 == 0:
                    regex.append(re.escape(piece))
                elif piece == known.free:
                    regex.append(f"(?P<{piece}>.*)")
                elif piece in labels:
                    choices = sorted(
                        {str(label) for label in labels[piece]()}, key=len, reverse=True
                    )
                    regex.append(f"(?P<{piece}>{'|'.join(map(re.escape, choices))})")
                else:
                    regex.append(f"(?P<{piece}>.*?)")
            if known.tail:
                regex.append("(?P<_tail>.*)")
        pattern = re.compile("".join(regex), re.DOTALL)
        if pattern not in found:
            found.append(pattern)
    _PATTERNS[known] = found
    return found


# The reasons a household's status history holds that the system wrote.
STATUS_TEXTS = (
    SystemText(_("公示期 %(a)s 至 %(b)s。")),
    SystemText(_("建档，档案编号 %(n)s。")),
    # A migrated file's first row names the staff member and the source file.
    SystemText(_("%(what)s：%(who)s 从 %(source)s 导入。")),
    # The chair's own words may follow the tier.
    SystemText(_("评定为“%(t)s”。"), tail=True),
    SystemText(_("公示异议成立：%(r)s"), free="r"),
    SystemText(
        _("%(kind)s：%(reason)s"),
        free="reason",
        labels=(("kind", lambda: ExitKind.labels),),
    ),
)

# Values of these keys in an audit event's changes are a person's data as a
# whole (old values included, which the file itself no longer knows).
PERSONAL_KEYS = frozenset(
    {
        "account_name", "address", "attachment", "bank_account", "bank_branch", "bank_name",
        "birth_date", "content", "employer", "exit_reason", "id_number", "members_added",
        "members_edited", "members_removed", "minutes", "name", "note", "occupation",
        "override", "phone", "raised_by", "resolution", "school",
    }
)  # fmt: skip
# Free text that may also be one of the system's own texts.
REASON_KEYS = frozenset({"reason", "date_reason"})


class Redactor:
    """The words that name the people of one file (names, ID numbers,
    phones, bank accounts), gathered before the file is blanked, and the
    rewriting of protected records' text that removes them."""

    def __init__(self) -> None:
        self._words: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.system: tuple[SystemText, ...] = STATUS_TEXTS

    def add(self, *words: str | None) -> None:
        for word in words:
            word = (word or "").strip()
            if len(word) >= MIN_WORD and not word.startswith((ANONYMISED, ID_PLACEHOLDER_PREFIX)):
                self._words.add(word)
        self._pattern = None

    def text(self, value: str) -> str:
        """`value` with every word that names one of the people replaced."""
        if not value or not self._words:
            return value
        if self._pattern is None:
            words = sorted(self._words, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, words)), re.IGNORECASE)
        return self._pattern.sub(ANONYMISED, value)

    def free_text(self, value: str, system: Sequence[SystemText] = ()) -> str:
        """What a person typed becomes 已匿名; a text the system wrote keeps
        its wording, without names (and without any typed part)."""
        if not value or not value.strip():
            return value
        for known in system:
            rewritten = known.rewrite(value, self)
            if rewritten is not None:
                return rewritten
        return ANONYMISED

    def changes(self, changes: Any) -> Any:
        """An audit event's {field: [old, new]} without the people in it."""
        if not isinstance(changes, dict):
            return self._value(changes)
        redacted = {}
        for key, value in changes.items():
            if key in PERSONAL_KEYS:
                redacted[key] = _blank(value)
            elif key in REASON_KEYS:
                redacted[key] = self._value(value, free=True)
            else:
                redacted[key] = self._value(value)
        return redacted

    def _value(self, value: Any, free: bool = False) -> Any:
        if isinstance(value, str):
            return self.free_text(value, self.system) if free else self.text(value)
        if isinstance(value, list):
            return [self._value(v, free) for v in value]
        if isinstance(value, dict):
            return {k: self._value(v, free) for k, v in value.items()}
        return value


def _blank(value: Any) -> Any:
    if isinstance(value, list):
        return [_blank(v) for v in value]
    if isinstance(value, dict):
        return {k: _blank(v) for k, v in value.items()}
    return value if value in (None, "", 0) or isinstance(value, bool) else ANONYMISED


def rewrite_rows(rows: QuerySet[Any], rewrites: dict[str, Callable[[Any], Any]]) -> int:
    """Rewrite the named fields of every row in `rows`; save the rows that
    changed and say how many. Amounts, dates, statuses and keys are never
    named here. The caller holds the `pgtrigger.ignore` for the table."""
    model = rows.model
    limits = {name: getattr(model._meta.get_field(name), "max_length", None) for name in rewrites}
    # A hash-chained row's rewrite is recorded in the chain (accounts/chain.py):
    # its whole content is read, for the digest before and after.
    chained = issubclass(model, Chained)
    changed, before = [], []
    for row in (rows if chained else rows.only("pk", *rewrites)).order_by("pk"):
        digest = content_digest(row_content(row)) if chained else ""
        dirty = False
        for name, rewrite in rewrites.items():
            old = getattr(row, name)
            new = rewrite(old)
            if isinstance(new, str) and limits[name]:
                new = new[: limits[name]]
            if new != old:
                setattr(row, name, new)
                dirty = True
        if dirty:
            changed.append(row)
            before.append(digest)
    if changed:
        model.objects.bulk_update(changed, list(rewrites), batch_size=500)
        if chained:
            redaction_record(list(zip(changed, before, strict=True)), reason=REDACTION_REASON)
    return len(changed)


def audit_redact(events: QuerySet[AuditEvent], redactor: Redactor, *, of_person: bool) -> int:
    """Remove the people from audit events. `of_person`: the events are about
    one of the people (a household, a member, a roster entry), whose stored
    name becomes 已匿名 as the record itself has."""
    with pgtrigger.ignore(AUDIT_TRIGGER):
        return rewrite_rows(
            events,
            {
                "object_repr": (lambda _repr: ANONYMISED) if of_person else redactor.text,
                "changes": redactor.changes,
            },
        )


def _redact_protected(household: Household, member_ids: list[int], redactor: Redactor) -> dict:
    """The file's own audit events and status history, without its people."""
    events = AuditEvent.objects.filter(
        Q(object_type=Household._meta.label_lower, object_id=str(household.pk))
        | Q(object_type=Member._meta.label_lower, object_id__in=[str(pk) for pk in member_ids])
    )
    audited = audit_redact(events, redactor, of_person=True)
    with pgtrigger.ignore(STATUS_TRIGGER):
        changes = rewrite_rows(
            StatusChange.objects.filter(household=household),
            {"reason": lambda reason: redactor.free_text(reason, STATUS_TEXTS)},
        )
    return {"redacted_audit_events": audited, "redacted_status_changes": changes}


# (what the anonymiser did, e.g. {"payments": 3, "files": 1}). It receives
# the file (already blanked) and the redactor holding its people's names,
# to which it adds any it blanks itself before the protected records are
# rewritten.
Anonymiser = Callable[[Household, Redactor], dict[str, int]]
ANONYMISERS: list[Anonymiser] = []


def register_anonymiser(function: Anonymiser) -> Anonymiser:
    """Add another app's step to every anonymisation (idempotent)."""
    if function not in ANONYMISERS:
        ANONYMISERS.append(function)
    return function


def placeholder_id(household: Household) -> str:
    return f"{ID_PLACEHOLDER_PREFIX}{household.pk}"


def is_anonymised(household: Household) -> bool:
    return household.id_number.startswith(ID_PLACEHOLDER_PREFIX)


def households_due(today: datetime.date | None = None) -> QuerySet[Household]:
    """Closed files whose retention date has passed and that still hold
    personal data."""
    today = today or clock.today()
    return (
        Household.objects.filter(status=HouseholdStatus.EXITED, retention_until__lt=today)
        .exclude(id_number__startswith=ID_PLACEHOLDER_PREFIX)
        .order_by("retention_until", "pk")
    )


def _year_start(day: datetime.date | None) -> datetime.date | None:
    # The year stays for age bands; the day and month identify.
    return day.replace(month=1, day=1) if day is not None else None


def _delete_files(rows: Iterable[Model], field_name: str) -> int:
    """Delete the stored files of `rows` after the commit, so a rollback
    never leaves a row pointing at a file that is gone."""
    names = []
    for row in rows:
        value = getattr(row, field_name)
        if value:
            names.append((value.storage, value.name))
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in names])
    return len(names)


@dataclass
class Anonymised:
    household_id: int
    counts: dict[str, int]


@transaction.atomic
def household_anonymise(*, actor: User | None, household: Household) -> Anonymised:
    """Anonymise one closed file past its retention date (and its members,
    visits, notes and files), and remove its people from the append-only
    records about it. Running it again on the same file does nothing.
    `actor` is None when the system's daily sweep does it."""
    household = Household.objects.select_for_update(no_key=True).get(pk=household.pk)
    if is_anonymised(household):
        return Anonymised(household.pk, {})
    if household.status != HouseholdStatus.EXITED or household.retention_until is None:
        raise ValueError(f"household {household.pk} is not a closed file")
    if household.retention_until >= clock.today():
        raise ValueError(f"household {household.pk} is kept until {household.retention_until}")

    counts: dict[str, int] = {}
    members = list(Member.objects.filter(household=household))
    redactor = Redactor()
    redactor.add(
        household.name, household.id_number, household.phone, household.address,
        household.bank_account,
    )  # fmt: skip
    for member in members:
        redactor.add(member.name, member.id_number)

    household.name = ANONYMISED
    household.id_number = placeholder_id(household)
    household.birth_date = _year_start(household.birth_date) or household.birth_date
    household.phone = ""
    household.address = ANONYMISED
    household.employer = ""
    household.bank_name = ""
    household.bank_branch = ""
    household.bank_account = ""
    household.note = ""
    household.exit_reason = ""
    household.save(
        update_fields=[
            "name", "id_number", "birth_date", "phone", "address", "employer",
            "bank_name", "bank_branch", "bank_account", "note", "exit_reason", "updated_at",
        ]
    )  # fmt: skip

    for member in members:
        member.name = ANONYMISED
        member.id_number = ""
        member.birth_date = _year_start(member.birth_date)
        member.occupation = ""
        member.school = ""
    Member.objects.bulk_update(members, ["name", "id_number", "birth_date", "occupation", "school"])
    counts["members"] = len(members)

    attachments = Attachment.objects.filter(household=household)
    counts["attachments"] = _delete_files(attachments, "file")
    attachments.delete()

    photos = VisitPhoto.objects.filter(visit__household=household)
    counts["visit_photos"] = _delete_files(photos, "file")
    photos.delete()
    counts["visits"] = Visit.objects.filter(household=household).update(
        seen_housing="", seen_appliances="", seen_health="", seen_schooling="",
        needs="", help_given="",
    )  # fmt: skip

    discussions = Discussion.objects.filter(household=household)
    counts["discussion_files"] = _delete_files(discussions, "file")
    counts["discussions"] = discussions.update(minutes=ANONYMISED, file="")
    counts["objections"] = Objection.objects.filter(household=household).update(
        raised_by="", content=ANONYMISED, resolution=""
    )
    Helper.objects.filter(household=household).update(end_reason="")
    ReviewItem.objects.filter(household=household).update(notes="")
    NonCashHelp.objects.filter(household=household).update(description=ANONYMISED, outcome="")

    for anonymiser in ANONYMISERS:
        for key, value in anonymiser(household, redactor).items():
            counts[key] = counts.get(key, 0) + value
    # Last, so the names the other apps added are removed here too.
    for key, value in _redact_protected(household, [m.pk for m in members], redactor).items():
        counts[key] = counts.get(key, 0) + value

    audit_record(
        actor=actor,
        action="household.anonymise",
        obj=household,
        unit=household.unit,
        changes={
            "retention_until": [household.retention_until.isoformat(), None],
            **{key: [value, 0] for key, value in sorted(counts.items()) if value},
        },
    )
    return Anonymised(household.pk, counts)


def retention_sweep(*, actor: User | None, dry_run: bool = False) -> list[Household]:
    """Anonymise every file past its retention date, each in its own
    transaction (one failure does not undo the others). With `dry_run`, only
    list them."""
    due = list(households_due().select_related("unit"))
    if dry_run:
        return due
    done = []
    for household in due:
        household_anonymise(actor=actor, household=household)
        done.append(household)
    return done
