from .views import documents, imports, jobs, statistics

app_name = "reports"

urlpatterns = [
    *jobs.urlpatterns,
    *documents.urlpatterns,
    *imports.urlpatterns,
    *statistics.urlpatterns,
]
