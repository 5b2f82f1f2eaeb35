"""What counts as Chinese left on an English page.

Shared by the page walk (tests/test_english_pages.py, the Django test
client) and the browser walk (tests/browser/test_english_browser.py).
Whatever Chinese a page shows may be data someone typed (a union's name, a
household's address, a memo): those values are read from the database and
taken out of the page text first. The admin-edited lists (tiers, causes,
file categories, programs, claim categories, income sources) are not data
here: each has an English name, and a page that shows the Chinese one
instead is a failure. Any Chinese character left is an untranslated label,
reported with its surroundings.
"""

import re
from collections.abc import Iterable, Iterator
from typing import Any

from django.apps import apps
from django.db import models

from accounts.i18n import EnglishNamed
from cases.models import Assessment

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
APPS = ("accounts", "cases", "funds", "programs", "reports")
# A masked value (河南省郑州市金水区****): data, cut short.
MASKED = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+\*{2,}")
# The column and sheet names of the import workbooks: the file must carry them
# as they are, so the English instructions quote them (with a gloss).
WORKBOOK_NAMES = (
    "姓名",
    "身份证号",
    "所属工会",
    "联系电话",
    "入会日期",
    "困难职工",
    "家庭成员",
    # Civil affairs' answer (民政数据比对): its headers and the status words
    # the file must hold, each glossed in English on the page.
    "民政状态",
    "月保障金额",
    "核对收入",
    "核对日期",
    "低保边缘",
    "低保",
    "特困",
    "无",
)
WORKBOOK_VALUES = ("在档", "已退出")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def data_values() -> list[str]:
    """Every Chinese text value stored in the project's tables, longest
    first, except the admin-edited lists' Chinese names (they must show in
    English), choice codes (shown through their translated labels) and the
    means test's stored steps (message ids, shown translated)."""
    found: set[str] = set()
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        fields = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
            and not f.choices
            and not (issubclass(model, EnglishNamed) and f.name == "name")
            and not (model is Assessment and f.name in ("steps", "warnings"))
        ]
        if not fields:
            continue
        for row in model._default_manager.values_list(*fields):
            for text in _strings(list(row)):
                if CJK.search(text):
                    found.update(line.strip() for line in text.splitlines() if line.strip())
    return sorted(found, key=len, reverse=True)


def name_the_lists() -> None:
    """What an administrator does: an English name for every entry of the
    admin-edited lists the migrations did not seed (programs, and what the
    builders add)."""
    for model in apps.get_models():
        if issubclass(model, EnglishNamed):
            for pk in model._default_manager.filter(name_en="").values_list("pk", flat=True):
                model._default_manager.filter(pk=pk).update(name_en=f"{model.__name__} {pk}")


def chinese_left(text: str, data: list[str], *, allowed: Iterable[str] = ()) -> list[str]:
    """The Chinese in `text` once the data values (and the `allowed` words)
    are taken out: each run with 30 characters either side."""
    text = MASKED.sub(" ", text)
    for value in data:
        text = text.replace(value, " ")
    for name in WORKBOOK_NAMES:
        text = text.replace(f"{name} (", " (").replace(f"“{name}”", " ")
    for value in WORKBOOK_VALUES:
        text = text.replace(f"{value} for", " for")
    for word in allowed:
        text = text.replace(word, " ")
    snippets = []
    for match in CJK.finditer(text):
        start, end = max(match.start() - 30, 0), min(match.end() + 30, len(text))
        snippets.append(text[start:end].replace("\n", " ⏎ "))
    return snippets
