"""/api/v1/: the endpoints every app registers in its `api.py`, collected
here without importing them by name (accounts sits left of the other apps),
plus who-am-I, the schema and its docs page."""

from importlib import import_module
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.urls import path, re_path
from django.utils.module_loading import module_has_submodule

from . import views
from .routing import paths, router


def _discover() -> None:
    """Import `api.py` of each of the project's own apps, which registers
    its view sets on the router."""
    for config in apps.get_app_configs():
        if config.name == "accounts" or not Path(config.path).is_relative_to(settings.BASE_DIR):
            continue
        if module_has_submodule(config.module, "api"):
            import_module(f"{config.name}.api")


_discover()

app_name = "api"

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", login_required(views.DocsView.as_view(url_name="api:schema")), name="docs"),
    *paths,
    *router.urls,
    re_path(r"^.*$", views.NotFoundView.as_view(), name="not_found"),
]
