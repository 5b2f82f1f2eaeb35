"""PDF rendering with WeasyPrint.

Every PDF extends `templates/reports/pdf/base.html`: A4, a CJK font embedded
(Noto Serif/Sans CJK SC from the system), table headers repeated on every
page, "第 X 页 / 共 Y 页", the document number and the time it was generated.
`archive=True` produces PDF/A-3b for long-term keeping.

WeasyPrint and the fonts are loaded once per process: the first PDF a worker
made used to pay for importing WeasyPrint and for Pango loading the CJK
fonts (several seconds for a four-page ledger). `weasyprint_tools` keeps one
FontConfiguration (its Pango font map holds the loaded fonts) for every
render, and `warm_up` pays the loading at worker start, in the background.
"""

import datetime
import functools
import logging
import re
import threading
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

ARCHIVE_VARIANT = "pdf/a-3b"

logger = logging.getLogger(__name__)


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


# One render at a time per process: the shared Pango font map is not meant
# for two threads at once (the warm-up thread and a request, or a threaded
# server's requests).
_render_lock = threading.Lock()


@functools.cache
def weasyprint_tools() -> tuple[Any, Any]:
    """WeasyPrint's HTML class and the process's one FontConfiguration.
    The import is heavy and happens here, on the first PDF, not at start."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    return HTML, FontConfiguration()


def html_to_pdf(html: str, *, archive: bool = False) -> bytes:
    options: dict[str, Any] = {}
    if archive:
        options["pdf_variant"] = ARCHIVE_VARIANT
    with _render_lock:
        html_class, font_config = weasyprint_tools()
        document = html_class(string=html, base_url=str(settings.BASE_DIR))
        pdf = document.write_pdf(font_config=font_config, **options)
    assert pdf is not None
    return pdf


def warm_up() -> None:
    """Load WeasyPrint, the fonts and the document templates now: a
    two-row disbursement ledger (serif cells, bold sans headers, the
    footer), made and thrown away."""
    import datetime as dt
    from decimal import Decimal

    from .generators.base import Document, Table
    from .generators.payments import ledger_columns
    from .render.pdf import render_document_pdf

    columns = ledger_columns()
    row = (1, dt.date(2026, 1, 20), "王秀兰", "410105********0012", "金水区总工会", "送温暖",
           "专项资金", "银行代发", Decimal("500.00"), "大米", Decimal("100.00"),
           Decimal("600.00"), None, None, Decimal("600.00"))  # fmt: skip
    table = Table(
        columns=columns, rows=lambda: iter([row, row]), count=2, totals={}, sheet="warm-up"
    )
    render_document_pdf(
        Document(
            report="warm_up",
            title="帮扶资金发放台账",
            number="WARM-UP",
            template="reports/pdf/disbursements.html",
            filename="warm-up",
            table=table,
            landscape=True,
            context={"scope": "Warm-up", "period": "2026", "count_text": "2"},
        )
    )


def warm_up_in_background() -> threading.Thread:
    """At a worker's start: the first person to ask for a PDF no longer
    waits for the fonts. A failure is logged; the first real PDF meets it
    again and reports it to its user."""

    def run() -> None:
        try:
            warm_up()
        except Exception:
            logger.exception("PDF warm-up failed")

    thread = threading.Thread(target=run, name="pdf-warm-up", daemon=True)
    thread.start()
    return thread


def render_pdf(template: str, context: dict[str, Any], *, archive: bool = False) -> bytes:
    return html_to_pdf(render_html(template, context), archive=archive)
