from .views import audit, civil, documents, imports, jobs, statistics, todo

app_name = "reports"

urlpatterns = [
    *jobs.urlpatterns,
    *documents.urlpatterns,
    *imports.urlpatterns,
    *statistics.urlpatterns,
    *todo.urlpatterns,
    *civil.urlpatterns,
    *audit.urlpatterns,
]
