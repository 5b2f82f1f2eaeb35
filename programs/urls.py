from .views import applications, batches, conflicts, loans, money, mutual, payments

app_name = "programs"

urlpatterns = [
    *applications.urlpatterns,
    *batches.urlpatterns,
    *payments.urlpatterns,
    *loans.urlpatterns,
    *mutual.urlpatterns,
    *money.urlpatterns,
    *conflicts.urlpatterns,
]
