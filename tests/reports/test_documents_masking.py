"""One masking rule in every output.

Every notice and every export an auditor without the unmasked grant (erin)
can get is rendered and read back as text: no full ID number, phone or bank
account, and no diagnosis or health status, although the households carry
one in their note, their members' and their own health, a visit's
observation, the application's reason and the chair's opinion. Public
notices show the same to anyone who prints them."""

import pytest
from django.urls import reverse

from accounts.masking import mask_id_number
from accounts.models import Membership
from tests.reports.documents_world import (
    HEALTH_LABELS,
    ILLNESS,
    build_world,
    compact,
    pdf_text,
    xlsx_text,
)


@pytest.fixture
def world(units, alice, carol, dave):
    return build_world(units, alice, carol, dave)


def _outputs(world):
    """(URL name, object id or None, query) of everything erin may download."""
    outputs = []
    for household in world.households:
        outputs.append(("household_card", household.pk, {}))
    for application in world.applications:
        outputs.append(("approval_form", application.pk, {}))
    for fmt in ("pdf", "xlsx"):
        for fund in (world.fund, world.other_fund):
            outputs.append(("fund_disbursements", fund.pk, {"format": fmt}))
            outputs.append(("fund_statement", fund.pk, {"format": fmt}))
        outputs += [
            ("batch_signoff", world.batch.pk, {"format": fmt}),
            ("intake_notice", world.notice.pk, {"format": fmt}),
            ("aid_notice", None, {"program": world.program.pk, "format": fmt}),
            ("aid_notice", None, {"batch": world.batch.pk, "format": fmt}),
            ("program_disbursements", None, {"program": world.program.pk, "format": fmt}),
        ]
    return outputs


def _text(response):
    assert response.status_code == 200, response.content[:1000]
    if response["Content-Type"] == "application/pdf":
        return pdf_text(response.content)
    return xlsx_text(response.content)


def _assert_nothing_personal(text, world, where):
    flat = compact(text)
    for secret in world.secrets:
        assert secret not in flat, f"{where}: {secret}"
    for word in (ILLNESS, "化疗", "住院治疗", *HEALTH_LABELS):
        assert word not in flat, f"{where}: {word}"


@pytest.mark.django_db
def test_nothing_erin_can_get_shows_an_id_a_phone_or_an_illness(world, erin, as_user):
    client = as_user(erin)
    outputs = _outputs(world)
    seen_masked_id = False
    for name, pk, query in outputs:
        url = reverse(f"reports:{name}", args=[pk] if pk else [])
        text = _text(client.get(url, query))
        _assert_nothing_personal(text, world, f"{name} {query}")
        seen_masked_id |= mask_id_number(world.households[0].id_number) in compact(text)
    assert seen_masked_id  # the outputs did show the households, masked
    assert len(outputs) == 26
    # The sign-off sheet before paying is finance's working paper: not hers.
    assert client.get(reverse("reports:signoff")).status_code == 403


@pytest.mark.django_db
def test_public_notices_show_the_same_to_a_caseworker(world, alice, as_user):
    """A caseworker sees full data on screen; a notice she prints is still a
    public notice: unit, name, tier, cause category, program, amount."""
    client = as_user(alice)
    for fmt in ("pdf", "xlsx"):
        for name, pk, query in (
            ("intake_notice", world.notice.pk, {}),
            ("aid_notice", None, {"program": world.program.pk}),
        ):
            url = reverse(f"reports:{name}", args=[pk] if pk else [])
            text = _text(client.get(url, {**query, "format": fmt}))
            _assert_nothing_personal(text, world, f"{name} {fmt}")
            flat = compact(text)
            assert "因病" in flat and "特困" in flat  # cause category and tier


@pytest.mark.django_db
def test_an_auditor_granted_unmasked_data_gets_the_full_card(world, erin, as_user):
    Membership.objects.filter(user=erin).update(sees_unmasked=True)
    household = world.households[0]
    url = reverse("reports:household_card", args=[household.pk])
    flat = compact(pdf_text(as_user(erin).get(url).content))
    assert household.id_number in flat and ILLNESS in flat
