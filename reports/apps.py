from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = _("报表")

    def ready(self) -> None:
        # Job kinds register themselves on import; the worker needs them too.
        from . import documents  # noqa: F401, I001
        from . import imports  # noqa: F401
        from . import audit_export  # noqa: F401
        from . import stats_snapshot  # noqa: F401
        from .civil import compare, export  # noqa: F401
