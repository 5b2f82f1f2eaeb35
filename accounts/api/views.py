"""The API's own endpoints: who the token belongs to, the unions, and the
schema with its docs page."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import mixins, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from ..models import ApiToken, Role, Unit
from ..scoping import memberships, unit_q
from .auth import TokenAuthentication
from .base import LIST_REFUSALS, ONE_REFUSALS, ApiViewSet, Audited
from .fields import Ref
from .filters import int_param
from .routing import router


class RoleSerializer(serializers.Serializer):
    unit = Ref()
    role = serializers.ChoiceField(choices=Role.choices)
    role_label = serializers.CharField(source="get_role_display")
    sees_unmasked = serializers.BooleanField()


class TokenInfoSerializer(serializers.Serializer):
    name = serializers.CharField()
    prefix = serializers.CharField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    roles = RoleSerializer(many=True)
    token = TokenInfoSerializer(allow_null=True)


class UnitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    parent = serializers.IntegerField(source="parent_id", allow_null=True)
    depth = serializers.IntegerField()
    is_active = serializers.BooleanField()


class MeView(Audited):
    serializer_class = MeSerializer

    @extend_schema(summary="当前令牌的用户及其角色", responses={200: MeSerializer, **ONE_REFUSALS})
    def get(self, request: Request) -> Response:
        user: Any = request.user
        token = request.auth if isinstance(request.auth, ApiToken) else None
        roles = [m for m in memberships(user) if m.unit.is_active]
        return Response(
            MeSerializer(
                {
                    "id": user.pk,
                    "username": user.username,
                    "full_name": user.full_name,
                    "roles": roles,
                    "token": token,
                }
            ).data
        )


@extend_schema_view(
    list=extend_schema(
        summary="我所在的工会及其下级工会",
        parameters=[OpenApiParameter("parent", int, description="只列出该工会的直接下级")],
        responses={200: UnitSerializer(many=True), **LIST_REFUSALS},
    ),
    retrieve=extend_schema(summary="一个工会", responses={200: UnitSerializer, **ONE_REFUSALS}),
)
class UnitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    queryset = Unit.objects.none()  # the model, for the schema
    serializer_class = UnitSerializer

    def get_queryset(self) -> QuerySet[Unit]:
        user: Any = self.request.user
        granted = [m for m in memberships(user) if m.unit.is_active]
        if not granted:
            raise PermissionDenied
        qs = Unit.objects.filter(unit_q([m.unit.path for m in granted]))
        if self.action == "list":
            parent = int_param(self.request, "parent")
            if parent is not None:
                qs = qs.filter(parent_id=parent)
        return qs


router.register("units", UnitViewSet, basename="unit")


class SchemaView(Audited, SpectacularAPIView):
    """The OpenAPI schema: for a token, or a signed-in browser (the docs page)."""

    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]


class DocsView(SpectacularSwaggerView):
    """Swagger UI, from drf-spectacular-sidecar's files: for a signed-in browser."""

    authentication_classes = [SessionAuthentication]


class NotFoundView(Audited):
    """Any other path under /api/v1/: a 404 in the API's JSON, not a page."""

    authentication_classes = [TokenAuthentication]
    permission_classes: list[Any] = []
    schema = None  # not an endpoint

    def _missing(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise NotFound

    get = post = put = patch = delete = _missing
