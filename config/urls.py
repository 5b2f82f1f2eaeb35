from django.contrib import admin
from django.urls import include, path

from accounts.views import home

admin.site.site_header = "工会困难职工帮扶管理系统"
admin.site.site_title = "帮扶管理"
admin.site.index_title = "系统配置"

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("cases.urls")),
    path("admin/", admin.site.urls),
]
