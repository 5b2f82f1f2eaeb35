"""回避登记: a staff member's own ID number, close relatives' and home
address, registered so that the services can refuse them aid decisions on
their own kin (programs.services.conflicts).

Only a keyed hash of each ID number is kept (cases.kin.id_digest, HMAC-SHA256
under settings.KIN_ID_HASH_KEY) with its masked form for display: whoever
reads the database cannot list the staff's relatives' numbers, and the
matching still works by hashing the household's numbers the same way.

The models live in cases, not accounts, because they only mean something
next to a household: the number is checked by the household file's own rule
(cases.idnumber) and matched against households and members."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import choices as c


class KinRegistration(models.Model):
    """A user's own entry: their ID number and home address (their phone is
    User.phone)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="kin_registration",
    )
    id_digest = models.CharField(_("身份证号摘要"), max_length=64, db_index=True)
    id_masked = models.CharField(_("身份证号"), max_length=18)
    address = models.CharField(_("家庭住址"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("登记时间"), auto_now=True)

    class Meta:
        verbose_name = _("回避登记")
        verbose_name_plural = _("回避登记")

    def __str__(self) -> str:
        return f"{self.user} {self.id_masked}"


class KinRelative(models.Model):
    """A close relative the user registered (optional)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="kin_relatives",
    )
    relation = models.CharField(_("关系"), max_length=16, choices=c.Relation.choices)
    name = models.CharField(_("姓名"), max_length=50)
    id_digest = models.CharField(_("身份证号摘要"), max_length=64, db_index=True)
    id_masked = models.CharField(_("身份证号"), max_length=18)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("回避登记的亲属")
        verbose_name_plural = _("回避登记的亲属")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "id_digest"], name="kin_relative_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_relation_display()} {self.name}"
