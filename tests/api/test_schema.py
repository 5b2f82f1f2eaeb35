"""The OpenAPI schema: written by `manage.py spectacular` without errors or
warnings, served to a token holder, and the docs page built on it from the
product's own static files (drf-spectacular-sidecar), no CDN."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command

from tests.api.conftest import openapi


def test_manage_spectacular_writes_a_valid_schema_without_warnings(tmp_path, capsys):
    target = tmp_path / "api.yaml"
    call_command("spectacular", "--file", str(target), "--validate", "--fail-on-warn")
    captured = capsys.readouterr()
    assert "Warning" not in captured.err and "Error" not in captured.err
    schema = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert schema["openapi"].startswith("3.1")
    assert schema["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    paths = set(schema["paths"])
    for expected in (
        "/api/v1/households/", "/api/v1/households/{id}/members/", "/api/v1/helpers/",
        "/api/v1/visits/", "/api/v1/applications/", "/api/v1/payments/", "/api/v1/funds/",
        "/api/v1/funds/{id}/entries/", "/api/v1/units/", "/api/v1/statistics/",
    ):  # fmt: skip
        assert expected in paths
    # Every operation names its refusals, so a client knows their shape.
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert "401" in operation["responses"], (method, path)


@pytest.mark.django_db
def test_the_schema_is_served_to_a_token_and_not_to_anyone(api, alice):
    assert api().get("/api/v1/schema/").status_code == 401
    served = api(alice).get("/api/v1/schema/")
    assert served.status_code == 200
    assert yaml.safe_load(served.content)["paths"].keys() == openapi().spec["paths"].keys()


@pytest.mark.django_db
def test_the_docs_page_loads_swagger_ui_from_our_static_files(client, alice):
    client.force_login(alice)
    page = client.get("/api/v1/docs/").content.decode()
    scripts = re.findall(r'src="([^"]+)"', page) + re.findall(r'href="([^"]+\.css)"', page)
    assert scripts, page[:2000]
    for url in scripts:
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/").split("?")[0]), url
