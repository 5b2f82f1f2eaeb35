"""A complaint about a named cadre (被投诉干部) is read only by the chairs of
the parent union and by auditors: never by the cadre, even one who would
otherwise cover it, nor by the union's other staff. Walked over every
complaint route, the lists and the statistics."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import AuditEvent
from programs.models import Complaint
from programs.models import ComplaintStatus as S
from programs.services import complaints as services
from programs.services.complaints import complaint_record
from tests.builders import make_household, make_user

# Every complaint route that takes the complaint's id, with what it sends.
ID_ROUTES = {
    "programs:complaint_detail": ("GET", {}),
    "programs:complaint_assign": ("POST", {"owner": "", "note": "请核实"}),
    "programs:complaint_reply": ("POST", {"reply": "已核实"}),
    "programs:complaint_close": ("POST", {"decision": "upheld", "reply": "属实，已纠正"}),
    "programs:complaint_reopen": ("POST", {"reason": "再查"}),
}


def test_the_walk_names_every_complaint_route_with_an_id():
    from tests.test_permissions import ID_URLS

    with_complaint_id = {n for n in ID_URLS if n.startswith("programs:complaint_")}
    creating = {n for n in with_complaint_id if "create" in n}
    assert with_complaint_id - creating == set(ID_ROUTES)


def about(cadre, household, recorder):
    return complaint_record(
        actor=recorder,
        target=household,
        category="conduct",
        channel="visit",
        content="干部优亲厚友",
        complainant_name="王秀兰",
        subject=cadre,
    )


def _state(complaint):
    row = Complaint.objects.filter(pk=complaint.pk).values().get()
    return row, complaint.changes.count(), AuditEvent.objects.count()


def _walk(client, person, complaint, expected):
    """Every id route, as `person`: all `expected` (404 for those it hides)."""
    client.force_login(person)
    for name, (method, data) in ID_ROUTES.items():
        before = _state(complaint)
        url = reverse(name, args=[complaint.pk])
        response = client.get(url) if method == "GET" else client.post(url, data)
        assert response.status_code == expected, f"{person.username} {name}"
        assert _state(complaint) == before, f"{person.username} {name} changed something"


def _listed(client, person, complaint):
    client.force_login(person)
    seen = set()
    for view in ("mine", "open", "overdue", "closed", "all"):
        page = client.get(reverse("programs:complaint_list"), {"view": view})
        seen |= {c.pk for c in page.context["rows"]}
    stats = client.get(reverse("programs:complaint_statistics")).context["stats"]
    return complaint.pk in seen, stats.total.received


@pytest.mark.django_db
def test_a_complaint_about_a_caseworker_goes_to_the_parent_chair_and_auditors(
    client, alice, bob, carol, cathy, dave, erin, frank, units
):
    household = make_household(units["a"], name="甲二")
    complaint = about(alice, household, recorder=dave)
    assert complaint.owner == cathy  # the chair of the city union, above county A
    for hidden in (alice, carol, dave, bob):  # the cadre, her union's chair and finance
        _walk(client, hidden, complaint, 404)
        assert _listed(client, hidden, complaint) == (False, 0)
    client.force_login(frank)
    assert client.get(reverse("programs:complaint_detail", args=[complaint.pk])).status_code == 403
    for reader in (cathy, erin):
        client.force_login(reader)
        page = client.get(reverse("programs:complaint_detail", args=[complaint.pk]))
        assert page.status_code == 200 and "干部优亲厚友" in page.content.decode()
        assert _listed(client, reader, complaint) == (True, 1)


@pytest.mark.django_db
def test_the_named_cadre_never_sees_it_even_as_the_chair_above(
    client, alice, carol, cathy, erin, units
):
    cindy = make_user("cindy", units["city"], "chair", full_name="辛迪")
    household = make_household(units["a"], name="甲二")
    complaint = about(cathy, household, recorder=alice)
    assert complaint.owner == cindy
    for hidden in (cathy, carol, alice):
        _walk(client, hidden, complaint, 404)
        assert _listed(client, hidden, complaint) == (False, 0)
    # The other chair of the city union handles it, as any owner would.
    client.force_login(cindy)
    response = client.post(
        reverse("programs:complaint_close", args=[complaint.pk]),
        {"decision": "upheld", "reply": "属实，已纠正"},
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.status, complaint.closed_by) == (S.CLOSED, cindy)
    client.force_login(erin)
    assert client.get(reverse("programs:complaint_detail", args=[complaint.pk])).status_code == 200


@pytest.mark.django_db
def test_a_complaint_about_the_chair_of_a_grassroots_unions_parent(
    client, alice, carol, cathy, dave, erin, units
):
    """Household of 纺织厂工会 (a1) about carol, who chairs county A, a1's
    parent: she would cover it; only cathy (city) and erin read it."""
    household = make_household(units["a1"], name="甲一")
    complaint = about(carol, household, recorder=alice)
    assert complaint.owner == cathy
    for hidden in (carol, alice, dave):
        _walk(client, hidden, complaint, 404)
    grassroots_chair = make_user("gina", units["a1"], "chair", full_name="吉娜")
    _walk(client, grassroots_chair, complaint, 404)
    assert services.may_assign(cathy, complaint) and not services.may_own(erin, complaint)


@pytest.mark.django_db
def test_it_cannot_be_handed_to_the_cadre_or_the_unions_staff(alice, carol, cathy, units):
    complaint = about(alice, make_household(units["a"], name="甲二"), recorder=carol)
    for wrong in (alice, carol):
        with pytest.raises(ValidationError) as exc:
            services.complaint_assign(actor=cathy, complaint=complaint, owner=wrong)
        assert "owner" in exc.value.error_dict
    assert Complaint.objects.get(pk=complaint.pk).owner == cathy


@pytest.mark.django_db
def test_the_rule_in_python_and_in_the_lists_agree(
    alice, bob, ben, carol, cathy, dave, erin, frank, units
):
    a, a1, b = (make_household(units[k], name=k) for k in ("a", "a1", "b"))
    complaints = [
        about(None, a, alice),
        about(alice, a, dave),
        about(carol, a1, alice),
        about(cathy, a, alice),
        about(None, b, bob),
        about(bob, b, ben),
    ]
    for person in (alice, bob, ben, carol, cathy, dave, erin):
        listed = set(
            Complaint.objects.filter(services.visible_q(person)).values_list("pk", flat=True)
        )
        by_rule = {c.pk for c in complaints if services.may_see(person, c)}
        assert listed == by_rule, person.username
        owns = {c.pk for c in complaints if services.owners_for(c).filter(pk=person.pk).exists()}
        assert owns == {c.pk for c in complaints if services.may_own(person, c)}, person.username
    assert not Complaint.objects.filter(services.visible_q(frank)).exists()
