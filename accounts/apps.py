from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("账户与组织")

    def ready(self) -> None:
        from . import refcache, signals  # noqa: F401

        refcache.forget_on_change(self.get_model("Unit"))
