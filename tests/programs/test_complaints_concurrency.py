"""Real row locks (PostgreSQL only): two chairs closing one complaint at the
same moment, and a reply racing a close."""

import pytest

from programs.models import Complaint, ComplaintChange
from programs.models import ComplaintStatus as S
from programs.services import complaints as services
from tests.builders import make_household, make_user
from tests.race import on_postgres, race


def _complaint(alice, units):
    return services.complaint_record(
        actor=alice,
        target=make_household(units["a"], name="甲二"),
        category="amount",
        channel="phone",
        content="少发了慰问金",
    )


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_chairs_closing_at_once_close_it_once(units, alice, carol):
    deputy = make_user("dora", units["a"], "chair", full_name="邓蓉")
    complaint = _complaint(alice, units)
    chairs = [carol, deputy] * 3
    decisions = ["upheld", "dismissed"] * 3
    refused = race(
        6,
        lambda i: services.complaint_close(
            actor=chairs[i], complaint=complaint, decision=decisions[i], reply=f"答复{i}"
        ),
    )
    assert len(refused) == 5
    assert all(isinstance(e, services.IllegalComplaintMove) for e in refused)
    closed = ComplaintChange.objects.filter(complaint=complaint, to_status=S.CLOSED).get()
    row = Complaint.objects.get(pk=complaint.pk)
    assert row.status == S.CLOSED and row.closed_by_id == closed.actor_id


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reply_racing_a_close_never_reopens_it(units, alice, carol):
    complaint = _complaint(alice, units)

    def work(i):
        if i % 2:
            services.complaint_reply(actor=carol, complaint=complaint, reply=f"答复{i}")
        else:
            services.complaint_close(
                actor=carol, complaint=complaint, decision="partly", reply="办结"
            )

    race(6, work)
    row = Complaint.objects.get(pk=complaint.pk)
    assert row.status == S.CLOSED and row.decision == "partly"
    moves = list(row.changes.order_by("at", "id").values_list("to_status", flat=True))
    assert moves.count(S.CLOSED) == 1 and moves[-1] == S.CLOSED
