"""API endpoints of the household files: households (masked as on the
pages, full values through the audited reveal), their members, helpers and
visits; visits can be logged, through the same service as the visit form."""

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
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
from accounts.api.fields import Masked, OptionalRef, Ref
from accounts.api.filters import checked_form, date_range, int_param, query_dict
from accounts.api.routing import router
from accounts.masking import mask_address, mask_bank_account, mask_id_number, mask_phone
from accounts.scoping import can_unmask, covers, get_scoped, require_action, scope_q, units_for

from . import clock
from .forms.followup import VisitForm
from .forms.households import HouseholdFilterForm
from .models import Helper, Household, HouseholdStatus, Member, Visit, VisitKind, VisitPhoto
from .selectors import followup as followup_selectors
from .selectors import households as selectors
from .services import followup
from .services import households as household_services

VIEW = "household.view"

# -- households -------------------------------------------------------------------------


class HouseholdListSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unit = Ref()
    status = serializers.ChoiceField(choices=HouseholdStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    file_number = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    id_number = Masked(mask_id_number)
    tier = OptionalRef()
    main_cause = OptionalRef()
    last_visited_on = serializers.DateField(allow_null=True)


class HouseholdSerializer(HouseholdListSerializer):
    sex = serializers.CharField()
    birth_date = serializers.DateField()
    ethnicity = serializers.CharField()
    political_status = serializers.CharField()
    phone = Masked(mask_phone)
    address = Masked(mask_address)
    employer = serializers.CharField()
    employer_type = serializers.CharField()
    employment_status = serializers.CharField()
    health_status = serializers.CharField()
    disability_type = serializers.CharField()
    disability_grade = serializers.CharField()
    model_worker_level = serializers.CharField()
    housing_type = serializers.CharField()
    housing_area = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    hukou_type = serializers.CharField()
    marital_status = serializers.CharField()
    single_parent = serializers.BooleanField()
    medical_insurance = serializers.CharField()
    zero_employment = serializers.BooleanField()
    household_size = serializers.IntegerField()
    annual_income = serializers.DecimalField(max_digits=14, decimal_places=2)
    rigid_expenses = serializers.DecimalField(max_digits=14, decimal_places=2)
    per_capita_monthly_income = serializers.DecimalField(max_digits=14, decimal_places=2)
    secondary_causes = serializers.ListField(child=Ref(), source="secondary_causes_list")
    categories = serializers.ListField(child=Ref(), source="categories_list")
    bank_name = serializers.CharField()
    bank_branch = serializers.CharField()
    bank_account = Masked(mask_bank_account)
    filed_on = serializers.DateField(allow_null=True)
    exited_on = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    can_reveal = serializers.BooleanField(help_text="本人可否通过 reveal 查看完整信息（留痕）")


class RevealSerializer(serializers.Serializer):
    field = serializers.ChoiceField(
        choices=[(f, f) for f in household_services.REVEALABLE_FIELDS],
        error_messages={
            "invalid_choice": gettext_lazy("只能查看 id_number、phone、address 或 bank_account。")
        },
    )


class RevealedSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.CharField()


class MemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    relation = serializers.CharField()
    id_number = Masked(mask_id_number)
    sex = serializers.CharField()
    birth_date = serializers.DateField(allow_null=True)
    health_status = serializers.CharField()
    annual_income = serializers.DecimalField(max_digits=14, decimal_places=2)
    occupation = serializers.CharField()
    school = serializers.CharField()
    school_stage = serializers.CharField()
    grade = serializers.CharField()


FILTER_NAMES = ("q", "unit", "tier", "cause", "category", "status")


@extend_schema_view(
    list=extend_schema(
        summary="家庭档案列表（与“家庭档案”页相同的筛选；个人信息已遮蔽）",
        parameters=[
            OpenApiParameter("q", str, description="姓名、身份证号、电话或档案编号（前缀）"),
            OpenApiParameter("unit", int, description="工会编号（含下级工会）"),
            OpenApiParameter("tier", int, description="困难类别编号"),
            OpenApiParameter("cause", int, description="致困原因编号（主要或次要）"),
            OpenApiParameter("category", int, description="档案分类编号"),
            OpenApiParameter("status", str, enum=HouseholdStatus.values, description="档案状态"),
        ],
        responses={200: HouseholdListSerializer(many=True), **LIST_REFUSALS},
    ),
    retrieve=extend_schema(
        summary="一户家庭档案（个人信息已遮蔽）",
        responses={200: HouseholdSerializer, **ONE_REFUSALS},
    ),
)
class HouseholdViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    queryset = Household.objects.none()  # the model, for the schema
    serializer_class = HouseholdSerializer

    def get_serializer_class(self) -> Any:
        return HouseholdListSerializer if self.action == "list" else HouseholdSerializer

    def get_queryset(self) -> QuerySet[Household]:
        user: Any = self.request.user
        require_action(user, VIEW)
        form = HouseholdFilterForm(
            query_dict(self.request, FILTER_NAMES), units=units_for(user, VIEW)
        )
        checked_form(form)
        return selectors.household_list(user, form.to_filter())

    def get_object(self) -> Household:
        user: Any = self.request.user
        return selectors.get_household_for(user, self.kwargs["pk"])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        household = self.get_object()
        detail = selectors.household_detail(household)
        household.secondary_causes_list = detail["secondary_causes"]  # type: ignore[attr-defined]
        household.categories_list = detail["categories"]  # type: ignore[attr-defined]
        household.can_reveal = can_unmask(request.user, household.unit)  # type: ignore[attr-defined, arg-type]
        return Response(HouseholdSerializer(household).data)

    @extend_schema(
        summary="查看一项完整个人信息（仅限可查看完整信息的角色，记入操作日志）",
        request=RevealSerializer,
        responses={200: RevealedSerializer, **WRITE_REFUSALS},
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def reveal(self, request: Request, pk: str) -> Response:
        user: Any = request.user
        household = self.get_object()
        if not can_unmask(user, household.unit):
            raise PermissionDenied(_("您无权查看完整信息。"))
        asked = RevealSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        field = asked.validated_data["field"]
        value = household_services.household_reveal_id(actor=user, household=household, field=field)
        return Response({"field": field, "value": value})

    @extend_schema(
        summary="一户的家庭成员（身份证号已遮蔽）",
        responses={200: MemberSerializer(many=True), **ONE_REFUSALS},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def members(self, request: Request, pk: str) -> Response:
        household = self.get_object()
        rows = Member.objects.filter(household=household).order_by("id")
        return Response(MemberSerializer(rows, many=True).data)


# -- helpers ------------------------------------------------------------------------------


class HelperSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    household = Ref()
    name = serializers.CharField(source="person.name", allow_null=True, default=None)
    post = serializers.CharField(source="person.post", allow_null=True, default=None)
    user = serializers.IntegerField(source="user_id", allow_null=True)
    role = serializers.CharField()
    is_first = serializers.BooleanField()
    start_on = serializers.DateField()
    end_on = serializers.DateField(allow_null=True)
    last_visited_on = serializers.DateField(allow_null=True)


def _scoped(user: Any, prefix: str) -> Any:
    require_action(user, VIEW)
    scope = scope_q(user, (VIEW,), prefix)
    if scope is None:
        raise PermissionDenied
    return scope


def _bool_param(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name, "").strip().lower()
    if not raw:
        return None
    if raw in ("1", "true", "yes"):
        return True
    if raw in ("0", "false", "no"):
        return False
    raise ValidationError({name: [_("应为 true 或 false。")]})


@extend_schema_view(
    list=extend_schema(
        summary="结对帮扶人",
        parameters=[
            OpenApiParameter("household", int, description="只列出该户的帮扶人"),
            OpenApiParameter("mine", bool, description="true：只列出本人的结对（我的帮扶户）"),
            OpenApiParameter("active", bool, description="true：仍在结对；false：已结束"),
        ],
        responses={200: HelperSerializer(many=True), **LIST_REFUSALS},
    ),
    retrieve=extend_schema(summary="一条结对", responses={200: HelperSerializer, **ONE_REFUSALS}),
)
class HelperViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    queryset = Helper.objects.none()  # the model, for the schema
    serializer_class = HelperSerializer

    def get_queryset(self) -> QuerySet[Helper]:
        user: Any = self.request.user
        qs = Helper.objects.filter(_scoped(user, "household__unit__")).select_related(
            "household__unit", "person"
        )
        household = int_param(self.request, "household")
        if household is not None:
            qs = qs.filter(household_id=household)
        if _bool_param(self.request, "mine"):
            qs = qs.filter(user=user)
        active = _bool_param(self.request, "active")
        if active is not None:
            qs = qs.filter(end_on__isnull=active)
        return qs

    def get_object(self) -> Helper:
        user: Any = self.request.user
        return followup_selectors.get_helper_for(user, self.kwargs["pk"], action=VIEW)


# -- visits -------------------------------------------------------------------------------


class VisitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    household = Ref()
    visitor = Ref()
    on_behalf_of = OptionalRef()
    visited_on = serializers.DateField()
    kind = serializers.ChoiceField(choices=VisitKind.choices)
    is_intake = serializers.BooleanField()
    seen_housing = serializers.CharField()
    seen_appliances = serializers.CharField()
    seen_health = serializers.CharField()
    seen_schooling = serializers.CharField()
    knows_name = serializers.BooleanField()
    knows_address = serializers.BooleanField()
    knows_phone = serializers.BooleanField()
    knows_spouse = serializers.BooleanField()
    knows_schooling = serializers.BooleanField()
    knows_events = serializers.BooleanField()
    needs = serializers.CharField()
    help_given = serializers.CharField()
    follow_up_on = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField()
    photo_count = serializers.IntegerField()


class VisitCreateSerializer(serializers.Serializer):
    household = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    visited_on = serializers.DateField(required=False, help_text="默认今天")
    kind = serializers.ChoiceField(choices=VisitKind.choices, default=VisitKind.HOME)
    knows_name = serializers.BooleanField(default=False)
    knows_address = serializers.BooleanField(default=False)
    knows_phone = serializers.BooleanField(default=False)
    knows_spouse = serializers.BooleanField(default=False)
    knows_schooling = serializers.BooleanField(default=False)
    knows_events = serializers.BooleanField(default=False)
    needs = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    help_given = serializers.CharField(
        required=False, allow_blank=True, max_length=5000, default=""
    )
    follow_up_on = serializers.DateField(required=False, allow_null=True, default=None)
    on_behalf_of = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="代录：实际走访的帮扶人（帮扶人名册编号），仅本工会经办人或主席可用",
    )


class VisitUploadSerializer(VisitCreateSerializer):
    """The same fields as a form upload (multipart/form-data), with photos."""

    photos = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text="现场照片（JPEG 或 PNG），每次最多 10 张",
    )


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.UUID,
    location=OpenApiParameter.HEADER,
    description="客户端为这次提交生成的 UUID：同一个键再次提交，返回第一次的结果，不会重复记录",
)


def _photo_count() -> Coalesce:
    counted = (
        VisitPhoto.objects.filter(visit=OuterRef("pk"))
        .order_by()
        .values("visit")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


@extend_schema_view(
    list=extend_schema(
        summary="走访记录",
        parameters=[
            OpenApiParameter("household", int, description="只列出该户的走访"),
            OpenApiParameter("date_from", OpenApiTypes.DATE, description="走访日期自"),
            OpenApiParameter("date_to", OpenApiTypes.DATE, description="走访日期至"),
        ],
        responses={200: VisitSerializer(many=True), **LIST_REFUSALS},
    ),
    retrieve=extend_schema(summary="一次走访", responses={200: VisitSerializer, **ONE_REFUSALS}),
    create=extend_schema(
        summary="登记一次走访（与走访表单相同的检查）",
        parameters=[IDEMPOTENCY_PARAMETER],
        request={
            "application/json": VisitCreateSerializer,
            "multipart/form-data": VisitUploadSerializer,
        },
        responses={201: VisitSerializer, 200: VisitSerializer, **WRITE_REFUSALS},
    ),
)
class VisitViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ApiViewSet
):
    queryset = Visit.objects.none()  # the model, for the schema
    serializer_class = VisitSerializer
    # JSON, or a form upload when the visit comes with photos.
    parser_classes = [JSONParser, MultiPartParser]

    def get_queryset(self) -> QuerySet[Visit]:
        user: Any = self.request.user
        qs = (
            Visit.objects.filter(_scoped(user, "household__unit__"))
            .select_related("household__unit", "visitor", "on_behalf_of")
            .annotate(photo_count=_photo_count())
        )
        if self.action != "list":
            return qs
        household = int_param(self.request, "household")
        if household is not None:
            qs = qs.filter(household_id=household)
        start, end = date_range(self.request)
        if start is not None:
            qs = qs.filter(visited_on__gte=start)
        if end is not None:
            qs = qs.filter(visited_on__lte=end)
        return qs

    def get_object(self) -> Visit:
        user: Any = self.request.user
        queryset = Visit.objects.select_related(
            "household__unit", "visitor", "on_behalf_of"
        ).annotate(photo_count=_photo_count())
        return get_scoped(
            user, queryset, self.kwargs["pk"], action=VIEW, unit_field="household__unit"
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user: Any = request.user
        key = idempotency_key(request)
        given = VisitCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        household = followup_selectors.get_household_for_visit(user, data.pop("household"))
        data.setdefault("visited_on", clock.today())
        form = VisitForm(
            data,
            MultiValueDict({"photos": request.FILES.getlist("photos")}),
            household=household,
            on_behalf=covers(user, "household.edit", household.unit),
        )
        if data.get("on_behalf_of") is not None and "on_behalf_of" not in form.fields:
            raise ValidationError(
                {"on_behalf_of": [_("只有本工会的经办人或主席可以代帮扶人登记走访。")]}
            )
        cleaned = checked_form(form)
        visit = followup.visit_log(
            actor=user,
            household=household,
            data=form.service_data(),
            on_behalf_of=cleaned.get("on_behalf_of"),
            photos=cleaned.get("photos") or [],
            client_key=key,
        )
        self.kwargs["pk"] = visit.pk
        shown = self.get_object()
        return created(
            VisitSerializer(shown).data, replayed=bool(getattr(visit, "replayed", False))
        )


router.register("households", HouseholdViewSet, basename="household")
router.register("helpers", HelperViewSet, basename="helper")
router.register("visits", VisitViewSet, basename="visit")
