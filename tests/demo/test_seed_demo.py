import datetime
import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import AuditEvent, Membership, Role, Unit, User
from accounts.passwords import DEMO_PASSWORD
from cases import clock, idnumber
from cases.models import CLOSED_STATUSES, Household, HouseholdStatus, IntakeNotice, Member
from cases.services import intake, per_capita_monthly
from demo.bulk import next_index
from demo.households import DemoFaker
from demo.people import head_id, head_slot
from demo.places import luhn_digit
from demo.users import USERS
from tests.builders import make_household, make_unit

Through = Household.secondary_causes.through


def _seed(**options):
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def _generate(*args):
    out = io.StringIO()
    call_command("generate_households", *args, stdout=out)
    return out.getvalue()


def _counts():
    return {
        model.__name__: model.objects.count()
        for model in (Unit, User, Membership, AuditEvent, Household, Member, Through)
    } | {"permissions": sum(u.user_permissions.count() for u in User.objects.all())}


def _assert_valid_files(households):
    active = [h.id_number for h in households if h.status not in CLOSED_STATUSES]
    assert len(active) == len(set(active)), "two active files for one person"
    for h in households:
        info = idnumber.parse(h.id_number)
        assert (info.sex, info.birth_date) == (h.sex, h.birth_date)
        assert h.per_capita_monthly_income == per_capita_monthly(h)
        assert h.household_size == 1 + len(h.members.all())
        for m in h.members.all():
            assert idnumber.parse(m.id_number).birth_date == m.birth_date


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing(debug):
    first = _seed()
    after_first = _counts()
    second = _seed()
    assert _counts() == after_first
    assert after_first["Household"] == 300
    assert after_first["User"] == len(USERS)
    assert 3 <= Unit.objects.filter(kind="county").count() <= 4
    for county in Unit.objects.filter(kind="county"):
        assert 2 <= county.children.count() <= 3
    # Every unit's creation is in the audit trail.
    assert AuditEvent.objects.filter(action="unit.create").count() == Unit.objects.count()
    for output in (first, second):
        assert "/accounts/login/" in output
        for spec in USERS:
            assert spec.username in output and spec.role in output
        assert DEMO_PASSWORD in output


@pytest.mark.django_db
def test_every_demo_user_signs_in_with_the_printed_password(debug, client):
    _seed()
    roles = {spec.role for spec in USERS}
    assert roles == set(Role.values)
    for spec in USERS:
        response = client.post(
            reverse("accounts:login"), {"username": spec.username, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302, spec.username
        assert client.session.get("_auth_user_id") == str(
            User.objects.get(username=spec.username).pk
        )
        client.logout()


@pytest.mark.django_db
def test_demo_admin_manages_configuration_but_cannot_read_files_in_admin(debug, client):
    _seed()
    admin = User.objects.get(username="demo_admin")
    assert admin.is_staff and not admin.is_superuser
    client.force_login(admin)
    assert client.get("/admin/accounts/unit/").status_code == 200
    assert client.get("/admin/cases/tier/").status_code == 200
    assert client.get("/admin/cases/household/").status_code == 403


@pytest.mark.django_db
def test_second_caseworker_cannot_open_the_first_ones_households(debug, client):
    _seed()
    jinshui = Unit.objects.get(code="410105")
    theirs = Household.objects.filter(unit__path__startswith=jinshui.path).first()
    assert theirs is not None
    client.force_login(User.objects.get(username="demo_caseworker2"))
    assert client.get(reverse("cases:household_detail", args=[theirs.pk])).status_code == 404
    client.force_login(User.objects.get(username="demo_caseworker"))
    assert client.get(reverse("cases:household_detail", args=[theirs.pk])).status_code == 200


@pytest.mark.django_db
def test_seed_demo_households_are_valid_and_spread(debug):
    _seed()
    households = list(Household.objects.select_related("tier", "main_cause"))
    _assert_valid_files(households)
    assert {h.unit.kind for h in households} == {"county", "grassroots"}
    tiers = Counter(h.tier.name for h in households)
    assert tiers.most_common(1)[0][0] == "困难"
    assert Counter(h.main_cause.name for h in households).most_common(1)[0][0] == "因病"
    assert Counter(h.status for h in households).most_common(1)[0][0] == "filed"
    assert Member.objects.exclude(school_stage="").exists()


@pytest.mark.django_db
def test_seed_demo_refuses_without_debug_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        _seed()
    assert not User.objects.exists() and not Unit.objects.exists()
    _seed(force=True)
    assert User.objects.filter(username="demo_admin").exists()


@pytest.mark.django_db
def test_generate_households_refuses_without_debug_unless_forced(settings, units):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        _generate("--count", "5")
    assert not Household.objects.exists()
    _generate("--count", "5", "--force")
    assert Household.objects.count() == 5


@pytest.mark.django_db
def test_generate_households_inserts_exactly_the_count_with_valid_unique_files(debug):
    _seed(households=0)
    output = _generate("--count", "500", "--seed", "3", "--batch-size", "200")
    assert "500/500" in output
    assert Household.objects.count() == 500
    _generate("--count", "500", "--seed", "3")  # same seed again: still no collision
    households = list(Household.objects.prefetch_related("members"))
    assert len(households) == 1000
    assert len({h.id_number for h in households}) == 1000
    numbers = [h.file_number for h in households if h.file_number]
    assert len(numbers) == len(set(numbers))
    _assert_valid_files(households)
    assert Through.objects.exists()


@pytest.mark.django_db
def test_generate_households_stays_inside_the_given_unit(debug):
    _seed(households=0)
    erqi = Unit.objects.get(code="410103")
    _generate("--count", "50", "--unit", "410103")
    assert Household.objects.count() == 50
    assert all(h.unit.path.startswith(erqi.path) for h in Household.objects.select_related("unit"))
    with pytest.raises(CommandError):
        _generate("--count", "5", "--unit", "no-such-code")


@pytest.mark.django_db
def test_generate_households_skips_numbers_already_on_file(debug, units):
    # Files that did not come from the generator hold exactly the numbers the
    # next index would produce (either sex): the generator must step past them.
    existing = [make_household(units["a1"]), make_household(units["a1"])]
    slot = head_slot(next_index())
    for household, male in zip(existing, (True, False), strict=True):
        household.id_number = head_id(slot, male)
        household.save(update_fields=["id_number"])
    _generate("--count", "20")
    assert Household.objects.count() == 22
    assert Household.objects.values("id_number").distinct().count() == 22


def test_faker_is_deterministic_for_a_seed():
    unit = Unit(pk=1, code="410105001", name="测试工会", kind="grassroots", path="0000001/")
    today = datetime.date(2025, 3, 1)

    def sample(seed):
        faker = DemoFaker(seed, today=today)
        rows = [faker.household(i, unit) for i in range(30)]
        return [
            (r.household.name, r.household.id_number, r.household.phone, r.household.address,
             r.household.bank_account, [(m.name, m.id_number, m.grade) for m in r.members])
            for r in rows
        ]  # fmt: skip

    assert sample(7) == sample(7)
    assert sample(7) != sample(8)


def test_fake_contact_and_bank_details_look_real():
    faker = DemoFaker(1, today=datetime.date(2025, 3, 1))
    for _ in range(200):
        phone = faker.phone()
        assert len(phone) == 11 and phone.isdigit() and phone[0] == "1"
        _bank, branch, account = faker.bank()
        assert len(account) == 19 and account.isdigit()
        assert luhn_digit(account[:-1]) == account[-1]
        assert branch.endswith("支行")
        assert faker.address().startswith("河南省郑州市")


def test_head_numbers_are_distinct_across_indices():
    seen = {head_id(head_slot(i), male) for i in range(20000) for male in (True, False)}
    assert len(seen) == 40000


# The household list's scope (cases.selectors.households.household_list), on seeded data.


@pytest.mark.django_db
def test_a_city_role_lists_every_household_and_a_county_role_only_its_own(debug, client):
    _seed()
    url = reverse("cases:household_list")
    city_caseworker = User.objects.create_user("city_cw")
    city_caseworker.memberships.create(unit=Unit.objects.get(code="410100"), role="caseworker")
    client.force_login(city_caseworker)
    assert client.get(url).context["page"].paginator.count == 300

    client.force_login(User.objects.get(username="demo_caseworker2"))
    erqi = Unit.objects.get(code="410103")
    page = client.get(url).context["page"]
    assert (
        page.paginator.count == Household.objects.filter(unit__path__startswith=erqi.path).count()
    )
    shown = Household.objects.filter(pk__in=[h["id"] for h in page.object_list])
    assert shown.count() == len(page.object_list) > 0
    assert all(path.startswith(erqi.path) for path in shown.values_list("unit__path", flat=True))


@pytest.mark.django_db
def test_a_role_at_one_root_does_not_see_a_second_tree(debug, client):
    _seed()
    other_root = make_unit("999900", "另一棵树的总工会", kind="city")
    stranger = make_household(other_root, name="另树户主")
    city_caseworker = User.objects.create_user("city_cw")
    city_caseworker.memberships.create(unit=Unit.objects.get(code="410100"), role="caseworker")
    client.force_login(city_caseworker)
    url = reverse("cases:household_list")
    response = client.get(url)
    assert response.context["page"].paginator.count == 300
    assert "另树户主" not in client.get(url, {"q": "另树"}).content.decode()

    city_caseworker.memberships.create(unit=other_root, role="auditor")
    response = client.get(url, {"q": "另树"})
    assert [h["id"] for h in response.context["page"].object_list] == [stranger.pk]
    assert client.get(url).context["page"].paginator.count == 301


@pytest.mark.django_db
def test_seed_demo_leaves_a_notice_past_its_period_for_the_chair_to_confirm(debug):
    """Step 七确认 can be tried at once: demo_chair may confirm the files of a
    notice whose period is over, and has a case waiting for 五评."""
    _seed()
    chair = User.objects.get(username="demo_chair")
    ended = IntakeNotice.objects.filter(ends_on__lt=clock.today())
    assert ended.count() == 1
    notice = ended.get()
    listed = list(Household.objects.filter(notice_entries__notice=notice))
    assert len(listed) == 2
    assert all(h.status == HouseholdStatus.NOTICED for h in listed)
    assert intake.confirm_blockers(listed[0]) == []
    filed = intake.case_confirm(actor=chair, household=listed[0])
    assert filed.status == HouseholdStatus.FILED and filed.file_number
    waiting = Household.objects.filter(status=HouseholdStatus.DISCUSSED)
    assert waiting.count() == 1 and waiting.get().submitted_by.username == "demo_caseworker"
    # Every step is on the files' timelines, as real work leaves it.
    assert listed[1].status_changes.count() == 5
