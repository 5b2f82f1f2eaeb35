from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy

from accounts.views import home

admin.site.site_header = gettext_lazy("工会困难职工帮扶管理系统")
admin.site.site_title = gettext_lazy("帮扶管理")
admin.site.index_title = gettext_lazy("系统配置")

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("cases.urls")),
    path("funds/", include("funds.urls")),
    path("aid/", include("programs.urls")),
    path("reports/", include("reports.urls")),
    path("api/v1/", include("accounts.api.urls")),
    path("admin/", admin.site.urls),
]
