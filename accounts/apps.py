from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("账户与组织")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import chain, refcache, signals  # noqa: F401

        refcache.forget_on_change(self.get_model("Unit"))
        post_migrate.connect(chain.heads_ensure, sender=self)
