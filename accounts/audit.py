"""Writing the audit trail. Services call `audit_record` inside their own
transaction, so an event exists exactly when its change does."""

from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .masking import mask_field
from .middleware import current_ip
from .models import AuditEvent, Unit, User

# What each event code means, for the trail's readers. The code is what is
# stored and filtered on; the label is shown beside it in the reader's language.
ACTION_LABELS: dict[str, Promise] = {
    "aid.history_import": _("导入历史帮扶记录"),
    "api.call": _("API 调用"),
    "api_token.create": _("创建 API 令牌"),
    "api_token.revoke": _("撤销 API 令牌"),
    "application.amend": _("修改帮扶申请"),
    "application.approve": _("批准帮扶申请"),
    "application.draft": _("起草帮扶申请"),
    "application.pay": _("发放补助"),
    "application.payment_reverse": _("冲正补助发放"),
    "application.reject": _("驳回帮扶申请"),
    "application.resubmit": _("重新提交帮扶申请"),
    "application.return": _("退回帮扶申请修改"),
    "application.withdraw": _("撤回帮扶申请"),
    "assessment.record": _("记录核算"),
    "attachment.add": _("上传证明材料"),
    "audit.export": _("导出审计核验包"),
    "attachment.delete": _("删除证明材料"),
    "auth.login": _("登录"),
    "auth.logout": _("退出登录"),
    "batch.approve": _("批准帮扶批次"),
    "batch.create": _("新建帮扶批次"),
    "batch.reject": _("驳回帮扶批次"),
    "batch.submit": _("提交帮扶批次"),
    "case.decide": _("作出决定"),
    "civil.batch.create": _("新建民政比对批次"),
    "civil.compare": _("导入民政比对结果"),
    "civil.download": _("下载民政比对报送文件"),
    "civil.exchange": _("民政数据比对"),
    "civil.export": _("生成民政比对报送文件"),
    "civil.suggestion.accept": _("采纳民政比对建议"),
    "civil.suggestion.reject": _("不采纳民政比对建议"),
    "claim.approve": _("通过互助申请"),
    "claim.pay": _("发放互助金"),
    "claim.reject": _("不通过互助申请"),
    "claim.submit": _("提交互助申请"),
    "claim.vote": _("委员会表决"),
    "complaint.assign": _("指定投诉承办人"),
    "complaint.close": _("办结投诉"),
    "complaint.record": _("登记投诉"),
    "complaint.reopen": _("重新办理投诉"),
    "complaint.reply": _("答复投诉"),
    "conflict.flag": _("回避标记"),
    "conflict.recuse": _("申请回避"),
    "conflict.refuse": _("因回避拒绝办理"),
    "coop.enroll": _("会员入会"),
    "coop.member_link": _("关联会员与家庭档案"),
    "coop.member_remove": _("移除会员"),
    "coop.member_unlink": _("解除会员与家庭档案的关联"),
    "coop.member_update": _("修改会员信息"),
    "coop.premium": _("收取互助会费"),
    "coop.premium_reverse": _("冲正互助会费"),
    "coop.roster_import": _("导入会员名册"),
    "export.statistics": _("导出统计表"),
    "fund.create": _("新建资金"),
    "helper.assign": _("结对帮扶"),
    "helper.end": _("结束结对"),
    "helper_person.activate": _("启用帮扶责任人"),
    "helper_person.create": _("新增帮扶责任人"),
    "helper_person.deactivate": _("停用帮扶责任人"),
    "helper_person.update": _("修改帮扶责任人"),
    "household.assessed": _("完成核算"),
    "household.create": _("新建家庭档案"),
    "household.anonymise": _("档案到期匿名化"),
    "household.discussed": _("完成评议"),
    "household.evaluated": _("完成评定"),
    "household.exit": _("退出档案"),
    "household.exit_flag": _("提示应当退出"),
    "household.exit_flag_cleared": _("退出提示解除"),
    "household.exit_flag_dismiss": _("忽略退出提示"),
    "household.exit_record": _("记录退出"),
    "household.filed": _("建档"),
    "household.import": _("导入家庭档案"),
    "household.migrate": _("迁入旧档案"),
    "household.noticed": _("开始公示"),
    "household.objection_upheld": _("异议成立"),
    "household.reject": _("驳回档案"),
    "household.reopen": _("重新打开档案"),
    "household.reveal": _("查看完整信息"),
    "household.send_back": _("退回修改"),
    "household.tier": _("评定困难类别"),
    "household.transition": _("档案状态变更"),
    "household.update": _("修改家庭档案"),
    "household.view": _("查看家庭档案"),
    "household.visited": _("完成入户"),
    "income.record": _("记录月收入"),
    "income.replace": _("更正月收入"),
    "job.download": _("下载文件"),
    "job.start": _("开始后台任务"),
    "job.retry": _("重新开始后台任务"),
    "job.stale": _("后台任务超时"),
    "kin.register": _("回避登记"),
    "kin.relative_add": _("登记回避亲属"),
    "kin.relative_remove": _("删除回避亲属"),
    "ledger.payment": _("记账：支出"),
    "ledger.receipt": _("记账：收入"),
    "ledger.reverse": _("记账：冲正"),
    "ledger.transfer": _("记账：调拨"),
    "loan.disburse": _("发放借款"),
    "loan.repay": _("收回还款"),
    "loan.repayment_reverse": _("冲正还款"),
    "membership.grant": _("授予角色"),
    "membership.revoke": _("撤销角色"),
    "noncash.record": _("记录非现金帮扶"),
    "notice.create": _("发布公示"),
    "notice.proof": _("上传公示照片"),
    "objection.record": _("登记异议"),
    "objection.resolve": _("处理异议"),
    "otp.enrol": _("设置双因素验证"),
    "otp.recovery_regenerate": _("重新生成恢复码"),
    "otp.recovery_used": _("使用恢复码登录"),
    "otp.reset": _("重置双因素验证"),
    "payment.sheet_open": _("打开发放表"),
    "payment_batch.create": _("新建发放批次"),
    "payment_batch.export": _("导出银行代发文件"),
    "review.item": _("年度复核一户"),
    "review.start": _("开始年度复核"),
    "unit.create": _("新建工会"),
    "unit.update": _("修改工会"),
    "verification.case_close": _("办结回访问题"),
    "verification.draw": _("回访抽样"),
    "verification.record": _("登记回访结果"),
    "verification.share_set": _("设置回访抽查比例"),
    "verification.take": _("领取回访任务"),
    "visit.log": _("记录走访"),
    "visit.on_behalf": _("代录走访"),
    "visit.photo_view": _("查看走访照片"),
    "visit.photos": _("上传走访照片"),
}
# Generic verbs: the admin's "<model>.create|update|delete" and "export.<report>".
_VERBS: dict[str, Promise] = {
    "create": _("新增"),
    "update": _("修改"),
    "delete": _("删除"),
}


def action_label(action: str) -> str:
    """The event's name in the active language; the code itself if unknown."""
    label = ACTION_LABELS.get(action)
    if label is not None:
        return str(label)
    noun, _dot, verb = action.partition(".")
    if noun == "export":
        return gettext("导出文件（%(r)s）") % {"r": verb}
    if verb in _VERBS:
        for model in apps.get_models():
            if model._meta.model_name == noun:
                return gettext("%(verb)s：%(model)s") % {
                    "verb": _VERBS[verb],
                    "model": model._meta.verbose_name,
                }
    return action


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Changed fields as {field: [old, new]} with personal values masked."""
    changed: dict[str, list[Any]] = {}
    for field in sorted(set(before) | set(after)):
        old, new = before.get(field), after.get(field)
        if old != new:
            changed[field] = [_plain(mask_field(field, old)), _plain(mask_field(field, new))]
    return changed


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    return {field: _plain(_as_stored(obj, field)) for field in fields}


def _as_stored(obj: models.Model, name: str) -> Any:
    # A form hands over Decimal("6000") for a column that holds 6000.00; both
    # are the same amount, and must not show up as a change.
    value = getattr(obj, name)
    if isinstance(value, Decimal):
        try:
            field = obj._meta.get_field(name)
        except FieldDoesNotExist:
            return value
        if isinstance(field, models.DecimalField) and field.decimal_places is not None:
            return value.quantize(Decimal(1).scaleb(-field.decimal_places))
    return value


def _stored_repr(obj: models.Model) -> str:
    # Stored text never depends on the language the actor happens to use.
    with translation.override(settings.LANGUAGE_CODE):
        return str(obj)


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return _stored_repr(value)
    if value is None or isinstance(value, bool | int | str | float):
        return value
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return str(value)


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    unit: Unit | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=_stored_repr(obj)[:200] if obj is not None else "",
        unit=unit,
        changes=changes or {},
        ip=current_ip.get(),
    )
