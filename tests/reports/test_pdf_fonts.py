"""WeasyPrint and its fonts are loaded once per process, and a web worker
loads them at start, so the first PDF a person asks for is not the slow one."""

import importlib
import sys

import pytest
from weasyprint.text import fonts

from reports import pdf

HTML = "<html><body><p>帮扶 ledger</p></body></html>"


@pytest.fixture
def fresh_tools():
    pdf.weasyprint_tools.cache_clear()
    yield
    pdf.weasyprint_tools.cache_clear()


def test_fonts_are_configured_once_for_every_pdf(fresh_tools, monkeypatch):
    made = []
    real = fonts.FontConfiguration.__init__

    def counted(self, *args, **kwargs):
        made.append(self)
        real(self, *args, **kwargs)

    monkeypatch.setattr(fonts.FontConfiguration, "__init__", counted)
    first = pdf.html_to_pdf(HTML)
    second = pdf.html_to_pdf(HTML)
    assert first.startswith(b"%PDF") and second.startswith(b"%PDF")
    assert len(made) == 1
    assert pdf.weasyprint_tools()[1] is made[0]


@pytest.mark.django_db
def test_warm_up_makes_the_ledger_template_and_loads_the_tools(fresh_tools):
    thread = pdf.warm_up_in_background()
    assert thread.name == "pdf-warm-up"
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert pdf.weasyprint_tools.cache_info().currsize == 1  # loaded by the warm-up
    assert pdf.html_to_pdf(HTML).startswith(b"%PDF")


def test_a_web_worker_starts_the_warm_up(monkeypatch):
    started = []
    monkeypatch.setattr(pdf, "warm_up_in_background", lambda: started.append(True))
    if "config.wsgi" in sys.modules:
        importlib.reload(sys.modules["config.wsgi"])
    else:
        importlib.import_module("config.wsgi")
    assert started == [True]
