"""API endpoint of the statistics: the same figures as the statistics page
(counted now for a small union, its snapshot for a big one)."""

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import LIST_REFUSALS, Audited
from accounts.api.filters import checked_form
from accounts.api.routing import paths
from accounts.api.views import UnitSerializer

from .stats import Scope, default_period
from .stats_snapshot import current_statistics
from .views.statistics import StatisticsFilter, _home_unit


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField()


class TableSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    note = serializers.CharField()
    columns = ColumnSerializer(many=True)
    rows = serializers.ListField(
        child=serializers.ListField(child=serializers.JSONField()),
        help_text="每行的值，按 columns 的顺序；金额为字符串（元）",
    )
    totals = serializers.DictField(child=serializers.JSONField(), help_text="按列的合计")


class StatisticsSerializer(serializers.Serializer):
    unit = UnitSerializer()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    live = serializers.BooleanField(help_text="true：本次请求时统计；false：读取快照")
    as_of = serializers.DateTimeField(allow_null=True, help_text="快照的数据截至时间")
    building = serializers.BooleanField(help_text="正在后台重新计算")
    tables = TableSerializer(many=True)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)  # Decimal amounts as text: no float rounding


class StatisticsView(Audited):
    @extend_schema(
        summary="统计表（与“统计”页相同：工会及其下级、统计期间）",
        parameters=[
            OpenApiParameter("unit", int, description="工会编号，默认本人所在的最高一级工会"),
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="统计期间自"),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="统计期间至"),
        ],
        responses={200: StatisticsSerializer, **LIST_REFUSALS},
    )
    def get(self, request: Request) -> Response:
        user: Any = request.user
        home = _home_unit(user)
        start, end = default_period()
        data = {"date_from": start.isoformat(), "date_to": end.isoformat(), "unit": str(home.pk)}
        for key in data:
            value = request.query_params.get(key, "").strip()
            if value:
                data[key] = value
        cleaned = checked_form(StatisticsFilter(data, user=user))
        scope = Scope(cleaned["unit"], cleaned["date_from"], cleaned["date_to"])
        current = current_statistics(scope, user)
        tables = []
        if current.stats is not None:
            for table in current.stats.tables:
                columns = table.columns
                tables.append(
                    {
                        "key": table.key,
                        "title": str(table.title),
                        "note": str(table.note or ""),
                        "columns": [
                            {"key": c.key, "label": str(c.label), "kind": c.kind} for c in columns
                        ],
                        "rows": [[_plain(v) for v in row] for row in table.data],
                        "totals": {k: _plain(v) for k, v in table.table.totals.items()},
                    }
                )
        body = {
            "unit": scope.unit,
            "date_from": scope.date_from,
            "date_to": scope.date_to,
            "live": current.live,
            "as_of": current.as_of,
            "building": current.building,
            "tables": tables,
        }
        return Response(StatisticsSerializer(body).data)


paths.append(path("statistics/", StatisticsView.as_view(), name="statistics"))
