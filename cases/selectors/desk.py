"""Where a union takes complaints (投诉受理): read by every public notice and
by the complaints of programs, so both print and count the same thing."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from accounts.models import Unit

from ..models import ComplaintDesk


@dataclass(frozen=True)
class Desk:
    unit_name: str  # the union that takes the complaints
    phone: str
    address: str
    working_days: int

    @property
    def text(self) -> str:
        """The sentence a notice prints under its table."""
        parts = [_("如有异议或投诉，可向%(u)s反映") % {"u": self.unit_name}]
        if self.phone:
            parts.append(_("投诉电话：%(p)s") % {"p": self.phone})
        if self.address:
            parts.append(_("来信来访地址：%(a)s") % {"a": self.address})
        if not (self.phone or self.address):
            parts.append(_("可当面、来信或来电，也可请帮扶干部代为登记"))
        parts.append(_("自受理之日起 %(n)s 个工作日内答复") % {"n": self.working_days})
        return _("；").join(parts) + _("。")


def complaint_desk_for(unit: Unit | None) -> Desk | None:
    """The desk of the union or its nearest ancestor that has one; the
    defaults (the union itself, 15 working days) when none has. One query."""
    if unit is None:
        return None
    ancestor_ids = [int(p) for p in unit.path.split("/") if p]
    row = (
        ComplaintDesk.objects.filter(unit_id__in=ancestor_ids)
        .select_related("unit")
        .order_by("-unit__depth")
        .first()
    )
    if row is None:
        return Desk(unit.name, "", "", ComplaintDesk.DEFAULT_WORKING_DAYS)
    return Desk(row.unit.name, row.phone, row.address, row.working_days)
