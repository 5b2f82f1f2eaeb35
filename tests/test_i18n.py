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
