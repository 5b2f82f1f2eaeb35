"""API endpoints of the money: funds with their balances, and each fund's
ledger, for those who answer for the money (finance, chairs, auditors)."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import LIST_REFUSALS, ONE_REFUSALS, ApiViewSet
from accounts.api.fields import OptionalHouseholdRef, OptionalRef, Ref
from accounts.api.filters import checked_form, query_dict
from accounts.api.routing import router
from accounts.scoping import require_action, units_for

from . import selectors
from .forms import EntryFilterForm, FundFilterForm
from .models import EntryKind, Fund, LedgerEntry

VIEW = selectors.VIEW
MONEY = {"max_digits": 16, "decimal_places": 2}


class FundSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unit = Ref()
    name = serializers.CharField()
    year = serializers.IntegerField()
    restriction = serializers.CharField()
    restricted_purpose = serializers.CharField()
    restricted_household = serializers.IntegerField(
        source="restricted_household_id", allow_null=True
    )
    is_active = serializers.BooleanField()
    total_in = serializers.DecimalField(**MONEY)
    total_out = serializers.DecimalField(**MONEY)
    balance = serializers.DecimalField(**MONEY)


class EntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=EntryKind.choices)
    direction = serializers.IntegerField(help_text="1 收入，-1 支出")
    amount = serializers.DecimalField(**MONEY)
    occurred_on = serializers.DateField()
    memo = serializers.CharField()
    household = OptionalHouseholdRef()
    source = OptionalRef()
    payer = serializers.CharField()
    donor = serializers.CharField()
    campaign = serializers.CharField()
    receipt_number = serializers.CharField()
    reverses = serializers.IntegerField(source="reverses_id", allow_null=True)
    reversed_by = serializers.IntegerField(source="reversed_by_pk", allow_null=True)
    actor = serializers.CharField(source="actor.__str__")
    created_at = serializers.DateTimeField()


FUND_FILTERS = ("year", "unit", "source")
ENTRY_FILTERS = ("kind", "date_from", "date_to")


@extend_schema_view(
    list=extend_schema(
        summary="资金及其余额（与“资金台账”页相同的筛选）",
        parameters=[
            OpenApiParameter("year", int, description="年度"),
            OpenApiParameter("unit", int, description="工会编号（含下级工会）"),
            OpenApiParameter("source", int, description="收到过该来源款项的资金"),
        ],
        responses={200: FundSerializer(many=True), **LIST_REFUSALS},
    ),
    retrieve=extend_schema(summary="一项资金", responses={200: FundSerializer, **ONE_REFUSALS}),
)
class FundViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    queryset = Fund.objects.none()  # the model, for the schema
    serializer_class = FundSerializer

    def get_queryset(self) -> QuerySet[Fund]:
        user: Any = self.request.user
        require_action(user, VIEW)
        form = FundFilterForm(query_dict(self.request, FUND_FILTERS), units=units_for(user, VIEW))
        checked_form(form)
        return selectors.fund_list(user, form.to_filter())

    def get_object(self) -> Fund:
        user: Any = self.request.user
        fund = selectors.get_fund_for(user, self.kwargs["pk"])
        totals = selectors.fund_totals(fund)
        fund.total_in, fund.total_out = totals.total_in, totals.total_out  # type: ignore[attr-defined]
        fund.balance = totals.balance  # type: ignore[attr-defined]
        return fund

    @extend_schema(
        summary="一项资金的流水（与资金页相同的筛选）",
        parameters=[
            OpenApiParameter("kind", str, enum=EntryKind.values, description="类型"),
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="发生日期自"),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="发生日期至"),
        ],
        responses={200: EntrySerializer(many=True), **ONE_REFUSALS, **LIST_REFUSALS},
    )
    @action(detail=True, methods=["get"], serializer_class=EntrySerializer)
    def entries(self, request: Request, pk: str) -> Response:
        user: Any = request.user
        fund = selectors.get_fund_for(user, pk)
        form = EntryFilterForm(query_dict(request, ENTRY_FILTERS), fund=fund)
        checked_form(form)
        entries: QuerySet[LedgerEntry] = selectors.ledger_entries(fund, form.to_filter())
        page = self.paginate_queryset(entries)
        rows = EntrySerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(rows)


router.register("funds", FundViewSet, basename="fund")
