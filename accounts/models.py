from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .append_only import append_only
from .chain import Chained, inserted_now


class User(AbstractUser):
    """A person who signs in. What they may do comes from their memberships."""

    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username


class UnitKind(models.TextChoices):
    CITY = "city", _("市总工会")
    COUNTY = "county", _("县区工会")
    INDUSTRY = "industry", _("产业工会")
    GRASSROOTS = "grassroots", _("基层工会")
    BRANCH = "branch", _("分会/支会")


class Unit(models.Model):
    """A union in the tree.

    `path` is the materialized path of ids from the root ("0000001/0000004/"),
    so "this unit and everything below it" is a single indexed prefix match.
    """

    code = models.CharField(_("单位代码"), max_length=32, unique=True)
    name = models.CharField(_("工会名称"), max_length=100)
    kind = models.CharField(_("层级类型"), max_length=16, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级工会"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("路径"), max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("层级"), default=0, editable=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("工会组织")
        verbose_name_plural = _("工会组织")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def covers(self, other: "Unit") -> bool:
        return other.path.startswith(self.path)


class Role(models.TextChoices):
    CASEWORKER = "caseworker", _("帮扶干部")
    CHAIR = "chair", _("工会主席")
    FINANCE = "finance", _("财务")
    AUDITOR = "auditor", _("监督审计")
    ADMIN = "admin", _("系统管理员")


class Membership(models.Model):
    """A role a user holds at a unit; it covers that unit and all below it."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="memberships"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("工会"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)
    # Auditors see masked personal data unless someone grants them more.
    sees_unmasked = models.BooleanField(_("可查看完整个人信息"), default=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("任职角色")
        verbose_name_plural = _("任职角色")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.unit} · {self.get_role_display()}"


class AuditEvent(Chained):
    """One thing someone did. Written by services in the same transaction as
    the change itself; never updated or deleted by any code path. Chained
    (accounts/chain.py)."""

    # Set when the instance is made, not at the insert: the chain's digest
    # covers it before the row is written.
    created_at = models.DateTimeField(
        _("时间"), default=inserted_now, editable=False, db_index=True
    )
    actor = models.ForeignKey(
        User,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("所属工会"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    changes = models.JSONField(_("变更内容"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)

    class Meta:
        verbose_name = _("操作日志")
        verbose_name_plural = _("操作日志")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["unit", "-created_at"], name="audit_unit_time_idx"),
            models.Index(fields=["actor", "-created_at"], name="audit_actor_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(action=""), name="audit_action_not_empty"),
        ]
        triggers = [append_only("audit_append_only")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action}"


class ChainHead(models.Model):
    """The last row of one hash chain: its seq and chain hash. Locked while a
    row is linked (accounts/chain.py), so the chain cannot fork."""

    chain = models.CharField(_("链"), max_length=64, primary_key=True)
    seq = models.BigIntegerField(_("最后序号"), default=0)
    hash = models.CharField(_("链头哈希"), max_length=64)

    class Meta:
        verbose_name = _("链头")
        verbose_name_plural = _("链头")

    def __str__(self) -> str:
        return f"{self.chain} #{self.seq}"


class ChainDigest(Chained):
    """A chain's head on one day (每日摘要), written by `manage.py
    audit_digest`. Chained itself, and append-only: changing a digest breaks
    the digest chain, and an auditor who kept a copy sees the difference."""

    day = models.DateField(_("日期"))
    chain = models.CharField(_("链"), max_length=64)
    last_seq = models.BigIntegerField(_("最后序号"))
    head_hash = models.CharField(_("链头哈希"), max_length=64)
    created_at = models.DateTimeField(_("记录时间"), default=inserted_now, editable=False)

    class Meta:
        verbose_name = _("每日摘要")
        verbose_name_plural = _("每日摘要")
        ordering = ["-day", "chain"]
        constraints = [
            models.UniqueConstraint(fields=["day", "chain"], name="chain_digest_one_per_day"),
        ]
        indexes = [models.Index(fields=["chain", "last_seq"], name="chain_digest_seq_idx")]
        triggers = [append_only("chain_digest_append_only")]

    def __str__(self) -> str:
        return f"{self.day} {self.chain} #{self.last_seq}"


class Redaction(Chained):
    """A lawful rewrite of a chained row by the retention job: the row's
    content digest before and after. `audit_verify` accepts a row whose
    content matches the end of its redactions; a silent edit matches nothing."""

    chain = models.CharField(_("链"), max_length=64)
    row_id = models.BigIntegerField(_("行编号"))
    row_seq = models.BigIntegerField(_("行序号"))
    before = models.CharField(_("原摘要"), max_length=64)
    after = models.CharField(_("新摘要"), max_length=64)
    reason = models.CharField(_("原因"), max_length=100)
    at = models.DateTimeField(_("时间"), default=inserted_now, editable=False)

    class Meta:
        verbose_name = _("匿名化记录")
        verbose_name_plural = _("匿名化记录")
        ordering = ["chain_seq"]
        indexes = [models.Index(fields=["chain", "row_seq"], name="redaction_row_idx")]
        triggers = [append_only("redaction_append_only")]

    def __str__(self) -> str:
        return f"{self.chain} #{self.row_seq}"


class ApiToken(models.Model):
    """A key another system uses to call the API as this user.

    Only the SHA-256 of the key is stored: the key itself is shown once, when
    it is made, and cannot be read back. `prefix` (its first characters) lets
    the owner tell their keys apart."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("用途"), max_length=50)
    prefix = models.CharField(_("令牌前缀"), max_length=16)
    digest = models.CharField(_("令牌摘要"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )
    last_used_at = models.DateTimeField(_("最近使用时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User,
        verbose_name=_("撤销人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="api_token_user_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
