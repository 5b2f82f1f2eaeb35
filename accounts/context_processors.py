from collections.abc import Callable
from typing import Any

from django.core.signals import setting_changed
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils import translation
from django.utils.safestring import SafeString

from .scoping import ACTIONS, has_action

# The menu's links by everything they depend on: the language, the URL
# prefix, the staff flag and the roles' allowed actions. Nothing personal
# goes in (the name, the sign-out form and the CSRF token are rendered on
# every request in _menu.html), so one person's menu can never show
# another's data, and there are at most a few hundred keys.
_MENU_LINKS: dict[tuple[Any, ...], SafeString] = {}


def _forget_menus(**kwargs: Any) -> None:
    _MENU_LINKS.clear()


setting_changed.connect(_forget_menus)


def roles(request: HttpRequest) -> dict[str, object]:
    user = request.user
    if not user.is_authenticated:
        return {}
    # Nested by noun so templates can write {% if can.household.edit %}: a
    # template cannot look up a key that itself contains a dot.
    can: dict[str, dict[str, bool]] = {}
    for action in ACTIONS:
        noun, verb = action.split(".")
        can.setdefault(noun, {})[verb] = has_action(user, action)  # type: ignore[arg-type]
    return {"can": can, "menu_links": _menu_links(can, bool(user.is_staff))}


def _menu_links(can: dict[str, dict[str, bool]], is_staff: bool) -> Callable[[], SafeString]:
    """The menu's links (templates/_menu_links.html), rendered the first
    time a process needs them for these roles and language (3 ms a page
    before). A callable: the template calls it only where the menu shows."""

    def links() -> SafeString:
        flags = tuple(sorted((noun, verb, ok) for noun, v in can.items() for verb, ok in v.items()))
        key = (translation.get_language(), get_script_prefix(), is_staff, flags)
        html = _MENU_LINKS.get(key)
        if html is None:
            html = render_to_string("_menu_links.html", {"can": can, "is_staff": is_staff})
            _MENU_LINKS[key] = html
        return html

    return links


# The page frame's fixed parts for offline visits (static/js/offline.js): the
# body's data-* addresses, and the script's texts in the page's language.
# They depend on the language and the URL prefix only: rendered once a
# process for each (30 {% url %}s and translations a page before).
_SHELL: dict[tuple[Any, ...], SafeString] = {}
setting_changed.connect(lambda **kwargs: _SHELL.clear())


def shell(request: HttpRequest) -> dict[str, object]:
    def part(template: str) -> Callable[[], SafeString]:
        def rendered() -> SafeString:
            key = (template, translation.get_language(), get_script_prefix())
            html = _SHELL.get(key)
            if html is None:
                html = _SHELL[key] = render_to_string(template)
            return html

        return rendered

    return {
        "shell_attrs": part("_shell_attrs.html"),
        "shell_texts": part("cases/followup/_offline_texts.html"),
    }
