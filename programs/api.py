"""API endpoints of aid: programs, applications (read, and drafted through
the same service and form as the application page) and payments."""

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import (
    IDEMPOTENCY_HEADER,
    LIST_REFUSALS,
    ONE_REFUSALS,
    WRITE_REFUSALS,
    ApiViewSet,
    created,
    idempotency_key,
)
from accounts.api.fields import HouseholdRef, Masked, Ref
from accounts.api.filters import checked_form, date_range, int_param, query_dict
from accounts.api.routing import router
from accounts.masking import mask_bank_account
from accounts.scoping import get_scoped, has_action, require_action, units_for
from cases.selectors.households import get_household_for

from .forms.applications import ALL, ApplicationFilterForm, ApplicationForm
from .models import AidPayment, Application, ApplicationStatus, PaymentMethod, Program
from .models.config import CapRule, Category, Kind
from .selectors import applications as selectors
from .selectors import payments as payment_selectors
from .services import applications as services

VIEW = selectors.VIEW
EDIT = selectors.EDIT
MONEY = {"max_digits": 16, "decimal_places": 2}

# -- programs ---------------------------------------------------------------------------


class ProgramSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unit = Ref()
    name = serializers.CharField(source="display_name")
    category = serializers.ChoiceField(choices=Category.choices)
    kind = serializers.ChoiceField(choices=Kind.choices)
    cap_rule = serializers.ChoiceField(choices=CapRule.choices)
    window_start = serializers.CharField(help_text="申请开始（月-日），空为全年")
    window_end = serializers.CharField(help_text="申请截止（月-日），空为全年")
    is_active = serializers.BooleanField()


@extend_schema_view(
    list=extend_schema(
        summary="本人所在工会及其上下级设立的帮扶项目",
        responses={200: ProgramSerializer(many=True), **LIST_REFUSALS},
    ),
    retrieve=extend_schema(
        summary="一个帮扶项目", responses={200: ProgramSerializer, **ONE_REFUSALS}
    ),
)
class ProgramViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    queryset = Program.objects.none()  # the model, for the schema
    serializer_class = ProgramSerializer

    def get_queryset(self) -> QuerySet[Program]:
        user: Any = self.request.user
        return selectors.programs_seen_by(user)

    def get_object(self) -> Program:
        try:
            key = int(self.kwargs["pk"])
        except ValueError:
            key = 0
        program = self.get_queryset().filter(pk=key).first()
        if program is None:
            raise Http404
        return program


# -- applications -----------------------------------------------------------------------


class ApplicationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    household = HouseholdRef()
    unit = Ref(source="household.unit")
    program = Ref()
    batch = serializers.IntegerField(source="batch_id", allow_null=True)
    year = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ApplicationStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    standard_amount = serializers.DecimalField(**MONEY, allow_null=True)
    amount = serializers.DecimalField(**MONEY)
    goods_value = serializers.DecimalField(**MONEY)
    goods_description = serializers.CharField()
    amount_reason = serializers.CharField()
    reason = serializers.CharField()
    out_of_pocket = serializers.DecimalField(**MONEY, allow_null=True)
    student = serializers.IntegerField(source="student_id", allow_null=True)
    months = serializers.IntegerField(allow_null=True)
    needs_parent = serializers.BooleanField()
    submission = serializers.IntegerField()
    drafted_by = serializers.IntegerField(source="drafted_by_id")
    drafted_at = serializers.DateTimeField()


class ApplicationCreateSerializer(serializers.Serializer):
    """As on the application page: money in yuan (up to 2 decimals) as text or
    a number; empty amount means the program's standard for the tier."""

    household = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    program = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    amount = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")
    amount_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=300, default=""
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    cash = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")
    goods_description = serializers.CharField(
        required=False, allow_blank=True, max_length=200, default=""
    )
    goods_value = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")
    out_of_pocket = serializers.CharField(
        required=False, allow_blank=True, max_length=20, default=""
    )
    student = serializers.IntegerField(
        required=False, allow_null=True, default=None, max_value=2**63 - 1
    )
    months = serializers.IntegerField(required=False, allow_null=True, default=None)


APPLICATION_FILTERS = ("view", "status", "program", "unit")


@extend_schema_view(
    list=extend_schema(
        summary="帮扶申请（与“帮扶申请”页相同的筛选）",
        parameters=[
            OpenApiParameter(
                "view", str, enum=["all", "mine"], description="mine：待我审批（工会主席）"
            ),
            OpenApiParameter("status", str, enum=ApplicationStatus.values, description="状态"),
            OpenApiParameter("program", int, description="帮扶项目编号"),
            OpenApiParameter("unit", int, description="所属工会编号（含下级工会）"),
        ],
        responses={200: ApplicationSerializer(many=True), **LIST_REFUSALS},
    ),
    retrieve=extend_schema(
        summary="一份帮扶申请", responses={200: ApplicationSerializer, **ONE_REFUSALS}
    ),
    create=extend_schema(
        summary="起草一份帮扶申请并提交审批（与申请页相同的检查）",
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.UUID,
                location=OpenApiParameter.HEADER,
                description="客户端为这次提交生成的 UUID：同一个键再次提交，返回第一次的申请",
            )
        ],
        request=ApplicationCreateSerializer,
        responses={201: ApplicationSerializer, 200: ApplicationSerializer, **WRITE_REFUSALS},
    ),
)
class ApplicationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ApiViewSet
):
    queryset = Application.objects.none()  # the model, for the schema
    serializer_class = ApplicationSerializer

    def get_queryset(self) -> QuerySet[Application]:
        user: Any = self.request.user
        require_action(user, VIEW)
        given = query_dict(self.request, APPLICATION_FILTERS)
        is_chair = has_action(user, selectors.DECIDE)
        given.setdefault("view", ALL)  # all, unless a chair asks for 待我审批
        form = ApplicationFilterForm(
            given,
            units=units_for(user, VIEW).filter(is_active=True),
            programs=selectors.programs_seen_by(user),
            is_chair=is_chair,
        )
        data = checked_form(form)
        flt = selectors.ApplicationFilter(
            mine=form.mine(),
            status=data.get("status") or "",
            program_id=data["program"].pk if data.get("program") else None,
            unit_id=data["unit"].pk if data.get("unit") else None,
        )
        return selectors.application_list(user, flt)

    def get_object(self) -> Application:
        user: Any = self.request.user
        return selectors.get_application_for(user, self.kwargs["pk"])

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user: Any = request.user
        key = idempotency_key(request)
        given = ApplicationCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        household = get_household_for(user, data.pop("household"), action=EDIT)
        form = ApplicationForm(
            data,
            household=household,
            programs=selectors.programs_for(household),
            offered=[],
        )
        checked_form(form)
        application = services.application_draft(
            actor=user, household=household, client_key=key, **form.service_kwargs()
        )
        shown = selectors.get_application_for(user, application.pk)
        body = ApplicationSerializer(shown, context=self.get_serializer_context()).data
        return created(body, replayed=bool(getattr(application, "replayed", False)))


# -- payments -----------------------------------------------------------------------------


class PaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    application = serializers.IntegerField(source="application_id")
    household = HouseholdRef(source="application.household")
    program = Ref(source="application.program")
    fund = Ref()
    batch = serializers.IntegerField(source="batch_id", allow_null=True)
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    amount = serializers.DecimalField(**MONEY)
    goods_value = serializers.DecimalField(**MONEY)
    goods_description = serializers.CharField()
    paid_on = serializers.DateField()
    bank_name = serializers.CharField()
    bank_account = Masked(mask_bank_account)
    reversed = serializers.SerializerMethodField(help_text="已冲正")
    reversal_reason = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_reversed(self, payment: AidPayment) -> bool:
        return payment.reversal_id is not None


PAY_VIEW = payment_selectors.VIEW


@extend_schema_view(
    list=extend_schema(
        summary="帮扶发放记录（银行账号已遮蔽）",
        parameters=[
            OpenApiParameter("fund", int, description="资金编号"),
            OpenApiParameter("application", int, description="申请编号"),
            OpenApiParameter("method", str, enum=PaymentMethod.values, description="发放方式"),
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="发放日期自"),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="发放日期至"),
        ],
        responses={200: PaymentSerializer(many=True), **LIST_REFUSALS},
    ),
    retrieve=extend_schema(
        summary="一次发放（银行账号已遮蔽）", responses={200: PaymentSerializer, **ONE_REFUSALS}
    ),
)
class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    queryset = AidPayment.objects.none()  # the model, for the schema
    serializer_class = PaymentSerializer

    def _rows(self) -> QuerySet[AidPayment]:
        return AidPayment.objects.select_related(
            "application__household__unit", "application__program", "fund__unit"
        )

    def get_queryset(self) -> QuerySet[AidPayment]:
        user: Any = self.request.user
        require_action(user, PAY_VIEW)
        qs = self._rows().filter(fund__unit__in=units_for(user, PAY_VIEW))
        for name, column in (("fund", "fund_id"), ("application", "application_id")):
            value = int_param(self.request, name)
            if value is not None:
                qs = qs.filter(**{column: value})
        method = self.request.query_params.get("method", "").strip()
        if method:
            if method not in PaymentMethod.values:
                choices = "、".join(PaymentMethod.values)
                raise ValidationError({"method": [_("应为 %(c)s 之一。") % {"c": choices}]})
            qs = qs.filter(method=method)
        start, end = date_range(self.request)
        if start is not None:
            qs = qs.filter(paid_on__gte=start)
        if end is not None:
            qs = qs.filter(paid_on__lte=end)
        return qs

    def get_object(self) -> AidPayment:
        user: Any = self.request.user
        return get_scoped(
            user, self._rows(), self.kwargs["pk"], action=PAY_VIEW, unit_field="fund__unit"
        )


router.register("programs", ProgramViewSet, basename="program")
router.register("applications", ApplicationViewSet, basename="application")
router.register("payments", PaymentViewSet, basename="payment")
