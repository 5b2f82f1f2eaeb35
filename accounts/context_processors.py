from django.http import HttpRequest

from .scoping import has_action


def roles(request: HttpRequest) -> dict[str, object]:
    user = request.user
    if not user.is_authenticated:
        return {}
    return {
        "can": {
            action: has_action(user, action)  # type: ignore[arg-type]
            for action in ("household.view", "household.edit", "audit.view", "config.manage")
        }
    }
