from django.http import HttpRequest

from .scoping import ACTIONS, has_action


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
    return {"can": can}
