"""Serializer fields the apps' endpoints share: references to named rows, and
personal values masked by the one rule every page uses (accounts/masking.py)."""

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


@extend_schema_field(RefSerializer)
class Ref(serializers.Field):
    """{"id": …, "name": …} of a union, tier, cause, program or fund; the
    name in the reader's language where the list has two (str())."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> dict[str, Any]:
        return {"id": value.pk, "name": str(value)}


class OptionalRef(Ref):
    """A Ref that may be null (no tier yet, no helper named)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["allow_null"] = True
        super().__init__(**kwargs)


class Masked(serializers.CharField):
    """A personal value as lists and pages show it: masked, always. The full
    value is one audited reveal away (households/{id}/reveal/)."""

    def __init__(self, masker: Callable[[str], str], **kwargs: Any) -> None:
        self.masker = masker
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        return self.masker(str(value or ""))


@extend_schema_field(RefSerializer)
class HouseholdRef(serializers.Field):
    """{"id", "name"} of a household: the name in full where the reader sees
    full personal data in its union, as the ledger pages show it; else 张**."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> dict[str, Any]:
        from ..scoping import Unmasker

        unmask = self.context.get("unmasker")
        if unmask is None:
            unmask = self.context["unmasker"] = Unmasker(self.context["request"].user)
        return {"id": value.pk, "name": unmask.name(value.name, value.unit.path)}


class OptionalHouseholdRef(HouseholdRef):
    def __init__(self, **kwargs: Any) -> None:
        kwargs["allow_null"] = True
        super().__init__(**kwargs)
