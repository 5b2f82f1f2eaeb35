"""Seed the four claim categories, point every claim at its category, copy
each member's name, ID number, union and phone from the household file it
was enrolled with, and mark claims already paid through their application
as paid on that payment's date."""

from django.db import migrations

# The codes of the old fixed list, in the order unions print them.
CATEGORIES = (
    ("school", "子女入学"),
    ("medical", "疾病医疗"),
    ("wedding_funeral", "婚丧嫁娶"),
    ("other", "其他"),
)


def seed_categories(apps, schema_editor=None):
    """The four default categories (also used by tests that truncate tables)."""
    ClaimCategory = apps.get_model("programs", "ClaimCategory")
    by_code = {}
    for order, (code, name) in enumerate(CATEGORIES, start=1):
        by_code[code], _created = ClaimCategory.objects.get_or_create(
            code=code, defaults={"name": name, "sort_order": order * 10}
        )
    return by_code


def fill(apps, schema_editor):
    Claim = apps.get_model("programs", "Claim")
    CoopMember = apps.get_model("programs", "CoopMember")
    AidPayment = apps.get_model("programs", "AidPayment")
    by_code = seed_categories(apps)
    for code, category in by_code.items():
        Claim.objects.filter(category=code).update(category_ref=category)
    # A code outside the old list cannot exist, but would be lost: keep it as 其他.
    Claim.objects.filter(category_ref__isnull=True).update(category_ref=by_code["other"])
    for member in CoopMember.objects.select_related("household").iterator():
        household = member.household
        member.name = household.name
        member.id_number = household.id_number
        member.unit_id = household.unit_id
        member.phone = household.phone or ""
        member.save(update_fields=["name", "id_number", "unit", "phone"])
    for claim in Claim.objects.filter(
        application__isnull=False, application__status="paid"
    ).select_related("application"):
        payment = (
            AidPayment.objects.filter(application=claim.application, reversal__isnull=True)
            .order_by("-id")
            .first()
        )
        if payment is None:
            continue
        claim.status = "paid"
        claim.paid_on = payment.paid_on
        claim.paid_by_id = payment.paid_by_id
        claim.save(update_fields=["status", "paid_on", "paid_by"])


def unfill(apps, schema_editor):
    Claim = apps.get_model("programs", "Claim")
    for claim in Claim.objects.select_related("category_ref"):
        claim.category = claim.category_ref.code[:16]
        if claim.status == "paid":
            claim.status = "approved"
        claim.save(update_fields=["category", "status"])


class Migration(migrations.Migration):
    dependencies = [("programs", "0006_coop_roster_and_claim_categories")]

    operations = [migrations.RunPython(fill, unfill)]
