from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgramsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "programs"
    verbose_name = _("帮扶项目")

    def ready(self) -> None:
        # Anonymising a closed file covers its payments and memberships too.
        from cases.services.retention import register_anonymiser

        from .services.retention import programs_anonymise

        register_anonymiser(programs_anonymise)
