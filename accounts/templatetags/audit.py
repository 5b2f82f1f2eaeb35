from django import template

from accounts.audit import action_label as _action_label

register = template.Library()


@register.filter
def action_label(action: str) -> str:
    """An audit event's name in the reader's language."""
    return _action_label(action)
