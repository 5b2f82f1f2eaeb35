"""PDF rendering with WeasyPrint.

Every PDF extends `templates/reports/pdf/base.html`: A4, a CJK font embedded
(Noto Serif/Sans CJK SC from the system), table headers repeated on every
page, "第 X 页 / 共 Y 页", the document number and the time it was generated.
`archive=True` produces PDF/A-3b for long-term keeping.
"""

import datetime
import re
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

ARCHIVE_VARIANT = "pdf/a-3b"


def document_number(prefix: str, key: object, when: datetime.datetime | None = None) -> str:
    """A document number a person can quote: PREFIX-YYYYMMDD-KEY."""
    when = timezone.localtime(when or timezone.now())
    return f"{prefix}-{when:%Y%m%d}-{key}"


def page_counter_css() -> str:
    """The footer's "第 X 页 / 共 Y 页" as a CSS `content` value, from one
    translatable sentence, so each language orders its own words."""
    text = _("第 {page} 页 / 共 {pages} 页")
    parts = []
    for piece in re.split(r"(\{page\}|\{pages\})", text):
        if piece == "{page}":
            parts.append("counter(page)")
        elif piece == "{pages}":
            parts.append("counter(pages)")
        elif piece:
            parts.append('"' + piece.replace("\\", "").replace('"', "") + '"')
    return " ".join(parts)


def render_html(template: str, context: dict[str, Any]) -> str:
    now = timezone.localtime()
    full = {"generated_at": now, "page_counter_css": page_counter_css(), **context}
    return render_to_string(template, full)


def html_to_pdf(html: str, *, archive: bool = False) -> bytes:
    from weasyprint import HTML  # heavy import, only when a PDF is made

    options: dict[str, Any] = {}
    if archive:
        options["pdf_variant"] = ARCHIVE_VARIANT
    document = HTML(string=html, base_url=str(settings.BASE_DIR))
    pdf = document.write_pdf(**options)
    assert pdf is not None
    return pdf


def render_pdf(template: str, context: dict[str, Any], *, archive: bool = False) -> bytes:
    return html_to_pdf(render_html(template, context), archive=archive)
