from django import template

from accounts.masking import mask_field

register = template.Library()


@register.filter
def mask(value: object, field: str) -> object:
    """{{ member.id_number|mask:"id_number" }}: the one masking rule, in templates."""
    return mask_field(field, value)
