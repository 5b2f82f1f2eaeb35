from .views import (
    applications,
    batches,
    complaints,
    conflicts,
    loans,
    money,
    mutual,
    payments,
    verification,
)

app_name = "programs"

urlpatterns = [
    *applications.urlpatterns,
    *batches.urlpatterns,
    *payments.urlpatterns,
    *loans.urlpatterns,
    *mutual.urlpatterns,
    *money.urlpatterns,
    *verification.urlpatterns,
    *complaints.urlpatterns,
    *conflicts.urlpatterns,
]
