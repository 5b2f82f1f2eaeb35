from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cases"
    verbose_name = _("困难职工档案")

    def ready(self) -> None:
        from accounts import refcache

        # The list filters' tiers, causes and categories, kept a minute.
        refcache.forget_on_change(
            self.get_model("Tier"), self.get_model("Cause"), self.get_model("FileCategory")
        )
