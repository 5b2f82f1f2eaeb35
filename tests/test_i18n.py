"""The English interface, and the English catalogue behind it.

The product is written in Chinese; `locale/en` carries the English. The .mo is
committed next to the .po (servers need not have gettext), so a test checks
that the compiled catalogue says what the .po says: file times mean nothing
after a git checkout.
"""

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")


@pytest.fixture(autouse=True)
def _restore_language():
    # A request through LocaleMiddleware leaves its language active in the
    # thread; later tests that call gettext directly expect the default.
    before = translation.get_language()
    yield
    translation.activate(before)


def _choose(client, language, next_url="/"):
    response = client.post(reverse("set_language"), {"language": language, "next": next_url})
    assert response.status_code == 302
    return response


# --- pages -----------------------------------------------------------------


@pytest.mark.django_db
def test_household_list_is_chinese_by_default(as_user, alice, household):
    body = as_user(alice).get(reverse("cases:household_list")).content.decode()
    assert '<html lang="zh-hans">' in body
    for chinese in ("家庭档案", "户主姓名", "身份证号", "退出登录"):
        assert chinese in body
    assert "Household files" not in body
    assert "Head of household" not in body


@pytest.mark.django_db
def test_choosing_english_translates_the_household_list(as_user, alice, household):
    client = as_user(alice)
    list_url = reverse("cases:household_list")
    assert _choose(client, "en", list_url)["Location"] == list_url
    body = client.get(list_url).content.decode()
    assert '<html lang="en">' in body
    for english in (
        "Household files",
        "Head of household",
        "ID number",
        "Hardship tier",
        "Sign out",
        "New file",
    ):
        assert english in body
    for chinese in ("家庭档案", "户主姓名", "身份证号", "困难类别", "退出登录", "新建档案"):
        assert chinese not in body
    assert household.name in body  # data stays as entered
    # The menu offers the way back.
    assert 'name="language" value="zh-hans"' in body


@pytest.mark.django_db
def test_choosing_english_translates_the_household_detail(as_user, alice, household):
    client = as_user(alice)
    _choose(client, "en")
    body = client.get(reverse("cases:household_detail", args=[household.pk])).content.decode()
    for english in (
        "Head of household details",
        "ID number",
        "Household members",
        "Per-capita monthly income",
        "Supporting documents",
        "Show in full",
    ):
        assert english in body
    for chinese in ("户主信息", "身份证号", "家庭成员", "人均月收入", "证明材料", "显示完整"):
        assert chinese not in body
    # A blocktranslate with placeholders keeps its values.
    assert f"÷ {household.household_size} (household size) ÷ 12" in body


@pytest.mark.django_db
def test_english_filter_form_on_the_list(as_user, alice, household):
    client = as_user(alice)
    _choose(client, "en")
    body = client.get(reverse("cases:household_list")).content.decode()
    assert "All statuses" in body
    assert "Name, ID number, phone or file number" in body
    assert "全部状态" not in body


@pytest.mark.django_db
def test_switching_back_to_chinese(as_user, alice, household):
    client = as_user(alice)
    _choose(client, "en")
    _choose(client, "zh-hans")
    body = client.get(reverse("cases:household_list")).content.decode()
    assert "家庭档案" in body
    assert "Household files" not in body


@pytest.mark.django_db
def test_login_in_english(client, alice):
    login_url = reverse("accounts:login")
    _choose(client, "en", login_url)
    body = client.get(login_url).content.decode()
    assert "Sign in to Union Assistance Management" in body
    assert "Username" in body and "Password" in body  # Django's own catalogue
    assert "登录" not in body

    wrong = client.post(login_url, {"username": "alice", "password": "nope"})
    assert wrong.status_code == 200
    assert "Please enter a correct username and password" in wrong.content.decode()

    response = client.post(login_url, {"username": "alice", "password": "pw-alice"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("cases:household_list")
    assert "Household files" in response.content.decode()


# --- the catalogue -----------------------------------------------------------


@dataclass
class Entry:
    msgid: str
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)


def _po_entries() -> list[Entry]:
    """The live entries of the .po (obsolete `#~` ones are comments here)."""
    entries = []
    for block in (CATALOGUE / "django.po").read_text(encoding="utf-8").split("\n\n"):
        flags: set[str] = set()
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith("#,"):
                flags.update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#") or not line.strip():
                continue
            elif line.startswith('"'):
                fields[key] += ast.literal_eval(line)
            else:
                key, _, rest = line.partition(" ")
                fields[key] = ast.literal_eval(rest)
        if "msgid" not in fields:
            continue
        forms = sorted(k for k in fields if k.startswith("msgstr"))
        entries.append(
            Entry(
                msgid=fields["msgid"],
                msgid_plural=fields.get("msgid_plural"),
                msgstr=[fields[k] for k in forms],
                flags=flags,
            )
        )
    return entries


def _messages() -> list[Entry]:
    return [e for e in _po_entries() if e.msgid]  # without the header


def test_po_has_every_message_translated_and_none_fuzzy():
    entries = _po_entries()
    assert entries[0].msgid == ""
    assert "Language: en" in entries[0].msgstr[0]
    messages = _messages()
    assert len(messages) > 250
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert fuzzy == []
    empty = [e.msgid for e in messages if not e.msgstr or not all(e.msgstr)]
    assert empty == []
    plurals = [e for e in messages if e.msgid_plural is not None]
    assert plurals and all(len(e.msgstr) == 2 for e in plurals)


def test_translations_keep_their_placeholders():
    def placeholders(text):
        return sorted(PLACEHOLDER.findall(text))

    wrong = [
        (e.msgid, s)
        for e in _messages()
        for s in e.msgstr
        if placeholders(s) != placeholders(e.msgid)
    ]
    assert wrong == []


def test_mo_is_compiled_from_the_current_po():
    messages = _messages()
    with (CATALOGUE / "django.mo").open("rb") as fp:
        mo = gettext.GNUTranslations(fp)
    stale = []
    for e in messages:
        if e.msgid_plural is None:
            compiled = [mo.gettext(e.msgid)]
        else:
            compiled = [mo.ngettext(e.msgid, e.msgid_plural, n) for n in (1, 2)]
        if compiled != e.msgstr:
            stale.append(e.msgid)
    assert stale == [], "run: manage.py compilemessages -l en"
    # Nothing more in the .mo either: one key per form, plus the header.
    expected = 1 + sum(len(e.msgstr) for e in messages)
    assert len(mo._catalog) == expected  # type: ignore[attr-defined]


def test_django_serves_the_english_catalogue():
    with translation.override("en"):
        assert translation.gettext("家庭档案") == "Household files"
        assert translation.gettext("困难职工") == "困难职工"  # not a msgid: unchanged
        assert translation.ngettext("共 %(count)s 条", "共 %(count)s 条", 1) == "%(count)s record"
        assert translation.ngettext("共 %(count)s 条", "共 %(count)s 条", 3) == "%(count)s records"


# --- English names of the admin-edited lists, and text built in code -----------


@pytest.mark.django_db
def test_seeded_lists_carry_english_names():
    from cases.models import Cause, FileCategory, Tier
    from funds.models import IncomeSource
    from programs.models import ClaimCategory

    for model in (Tier, Cause, FileCategory, IncomeSource, ClaimCategory):
        missing = list(model.objects.filter(name_en="").values_list("name", flat=True))
        assert model.objects.exists() and missing == [], (model.__name__, missing)
    tier = Tier.objects.get(name="特困")
    assert str(tier) == "特困"
    with translation.override("en"):
        assert str(tier) == tier.display_name == "Extreme hardship"
    tier.name_en = ""
    with translation.override("en"):
        assert str(tier) == "特困"  # no English name: the Chinese one


@pytest.mark.django_db
def test_english_names_show_in_pages_and_choices(as_user, alice, household):
    from cases.models import FileCategory

    FileCategory.objects.filter(name="劳模").update(name_en="Model worker")
    client = as_user(alice)
    _choose(client, "en")
    body = client.get(reverse("cases:household_detail", args=[household.pk])).content.decode()
    assert household.tier.name_en in body and household.tier.name not in body
    assert household.main_cause.name_en in body
    listing = client.get(reverse("cases:household_list")).content.decode()
    assert ">Model worker</option>" in listing and "劳模" not in listing
    _choose(client, "zh-hans")
    assert household.tier.name in client.get(reverse("cases:household_list")).content.decode()


@pytest.mark.django_db
def test_audit_events_are_named_in_the_readers_language(as_user, erin, household):
    from accounts.audit import action_label, audit_record

    audit_record(actor=None, action="household.tier", obj=household, unit=household.unit)
    with translation.override("en"):
        assert action_label("household.tier") == "Evaluate hardship tier"
        assert action_label("tier.update") == "Edit: Hardship tier"
        assert action_label("no.such") == "no.such"
    assert action_label("household.tier") == "评定困难类别"
    client = as_user(erin)
    _choose(client, "en")
    body = client.get(reverse("accounts:audit_list")).content.decode()
    assert "Evaluate hardship tier" in body and "评定困难类别" not in body


@pytest.mark.django_db
def test_audit_trail_keeps_chinese_names_whoever_writes_it(household):
    from accounts.audit import audit_record

    with translation.override("en"):
        event = audit_record(actor=None, action="tier.update", obj=household.tier)
    assert event.object_repr == household.tier.name


def test_every_audit_event_code_in_the_code_has_a_name():
    """A new event code gets its name in accounts/audit.py too."""
    from accounts.audit import ACTION_LABELS

    root = Path(settings.BASE_DIR)
    found: set[str] = set()
    literal = re.compile(r'action="([a-z_]+\.[a-z_.]+)"|"([a-z_]+\.[a-z_]+)" if ')
    for app in ("accounts", "cases", "funds", "programs", "reports", "demo"):
        for path in (root / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for match in literal.finditer(path.read_text(encoding="utf-8")):
                found.add(match.group(1) or match.group(2))
    scoping = {"household.view", "household.edit", "fund.view", "fund.manage", "audit.view"}
    assert found, "no audit codes found"
    assert sorted(found - set(ACTION_LABELS) - scoping) == []


@pytest.mark.django_db
def test_means_test_explanation_follows_the_reader(draft_assessment):
    zh = draft_assessment.explained_steps
    assert "人均月收入" in "".join(zh)
    with translation.override("en"):
        en = draft_assessment.explained_steps
    assert en and not any(re.search(r"[\u4e00-\u9fff]", line) for line in en), en
    assert "666.67" in "".join(en)


@pytest.fixture
def draft_assessment(units, alice, standard):
    from decimal import Decimal

    from cases.models import HouseholdStatus
    from cases.services import intake
    from tests.builders import make_household

    h = make_household(
        units["a1"], status=HouseholdStatus.DRAFT, submitted_by=alice, created_by=alice
    )
    intake.intake_visit_log(actor=alice, household=h, data={"seen_housing": "平房"})
    data = {f: Decimal("0") for f in (*intake.INCOME_FIELDS, *intake.EXPENSE_FIELDS)}
    data.update(income_wages=Decimal("24000"), household_size=3)
    with translation.override("en"):  # stored the same whoever records it
        intake.assessment_record(actor=alice, household=h, data=data)
    return intake.latest_assessment(h)


def test_chart_axes_in_english():
    from datetime import date

    from reports.charts import short
    from reports.stats import axis_month

    assert short(25000, True) == "2.5万"
    assert axis_month(date(2026, 3, 1)) == "3月"
    with translation.override("en"):
        assert short(25000, True) == "25k"
        assert axis_month(date(2026, 3, 1)) == "Mar"
