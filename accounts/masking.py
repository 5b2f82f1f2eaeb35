"""The one masking rule every screen, notice and export uses.

One rule everywhere, so that fragments shown in different places can never be
stitched back together into a full ID number, phone number or address.
"""

import re

MASK = "*"

# Default: the first 3 and last 4 characters of an ID number stay visible.
ID_KEEP_HEAD = 3
ID_KEEP_TAIL = 4

_DIGIT_OR_BUILDING = re.compile(
    r"[0-9０-９一二三四五六七八九十百〇零]+(号|栋|幢|单元|室|楼|层|户|组)|[0-9０-９]"
)
# The finest level a public notice may name: a street, community or village.
_LOCALITY_MARKERS = ("社区", "街道", "居委会", "村委会", "村", "镇", "乡", "路", "街", "巷", "大道")
_DISTRICT_MARKERS = ("区", "县", "旗", "市")


def mask_middle(value: str, keep_head: int, keep_tail: int) -> str:
    value = value or ""
    if len(value) <= keep_head + keep_tail:
        return MASK * len(value)
    hidden = len(value) - keep_head - keep_tail
    return value[:keep_head] + MASK * hidden + (value[-keep_tail:] if keep_tail else "")


def mask_id_number(value: str) -> str:
    """110************123 style: first 3 and last 4 shown."""
    return mask_middle((value or "").strip(), ID_KEEP_HEAD, ID_KEEP_TAIL)


def mask_phone(value: str) -> str:
    """138****1234: the carrier prefix and the last four digits stay."""
    value = (value or "").strip()
    if len(value) >= 11:
        return value[:3] + MASK * (len(value) - 7) + value[-4:]
    return mask_middle(value, 2, 2)


def mask_bank_account(value: str) -> str:
    value = (value or "").replace(" ", "")
    return mask_middle(value, 4, 4)


def mask_name(value: str) -> str:
    """张** : a surname and the length of the name, nothing more."""
    value = (value or "").strip()
    return value[:1] + MASK * (len(value) - 1) if value else ""


def mask_address(value: str) -> str:
    """Keep the address down to the street or community, drop house numbers."""
    value = (value or "").strip()
    if not value:
        return ""
    match = _DIGIT_OR_BUILDING.search(value)
    head = value[: match.start()] if match else value
    best = -1
    for marker in _LOCALITY_MARKERS:
        pos = head.rfind(marker)
        if pos >= 0:
            best = max(best, pos + len(marker))
    if best < 0:
        for marker in _DISTRICT_MARKERS:
            pos = head.rfind(marker)
            if pos >= 0:
                best = max(best, pos + len(marker))
    kept = head[:best] if best > 0 else ""
    return kept + MASK * 4 if kept != value else kept


# Field names whose values are personal; audit records and exports mask them.
SENSITIVE_FIELDS = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "bank_account": mask_bank_account,
    "address": mask_address,
}


def mask_field(field: str, value: object) -> object:
    masker = SENSITIVE_FIELDS.get(field)
    if masker is None or value in (None, ""):
        return value
    return masker(str(value))
