"""Who lives with a household's head: a spouse, children, elderly parents.

A member's ID number and birthday follow from the head's slot (see
`demo.people`), so members never share a number either.
"""

import datetime

from cases.choices import HealthStatus, Relation
from cases.models import Member

from .faker import Faker
from .people import (
    BLOCK_CHILDREN,
    BLOCK_FATHER,
    BLOCK_MOTHER,
    BLOCK_SPOUSE,
    HeadSlot,
    Person,
    age_on,
    member_birth,
    member_id,
)
from .rows import build
from .weighted import Weighted
from .work import ADULT_JOBS

# A member's part in the household's economy decides their income.
ADULT, IDLE, STUDENT, INFANT, ELDER = "adult", "idle", "student", "infant", "elder"
CHILD_COUNTS = Weighted([(0, 14), (1, 50), (2, 31), (3, 5)])

Members = list[tuple[Member, str]]  # each member with their part


def family(faker: Faker, slot: HeadSlot, head: Person) -> tuple[Person | None, Members]:
    """The head's spouse (or None) and every member with their part."""
    members: Members = []
    spouse = _spouse(faker, slot, head, members)
    _children(faker, slot, head, spouse, members)
    _parents(faker, slot, head, members)
    return spouse, members


def member(faker: Faker, person: Person, relation: str) -> Member:
    healthy = faker.rng.random() < 0.75
    return build(
        Member,
        name=person.name,
        relation=relation,
        id_number=person.id_number,
        sex=person.sex,
        birth_date=person.birth,
        health_status=HealthStatus.HEALTHY if healthy else HealthStatus.FAIR,
    )


def _spouse(faker: Faker, slot: HeadSlot, head: Person, members: Members) -> Person | None:
    rng = faker.rng
    if rng.random() >= 0.74:
        return None
    male = head.sex == "F"
    years = (-6.0, 3.0) if male else (-3.0, 6.0)
    birth = member_birth(slot, BLOCK_SPOUSE, male, years)
    spouse = faker.person(member_id(slot, BLOCK_SPOUSE, male, birth), birth, male)
    role = ADULT if rng.random() < 0.7 else IDLE
    members.append((member(faker, spouse, Relation.SPOUSE), role))
    return spouse


def _children(
    faker: Faker, slot: HeadSlot, head: Person, spouse: Person | None, members: Members
) -> None:
    rng = faker.rng
    count = CHILD_COUNTS.pick(rng)
    if spouse is None and rng.random() < 0.5:
        count = min(count, 1)
    for k in range(count):
        male = rng.random() < 0.52
        block = BLOCK_CHILDREN[k]
        birth = member_birth(slot, block, male, (22.0 + 3 * k, 32.0 + 4 * k))
        if birth > faker.today - datetime.timedelta(days=60):
            continue  # not born yet: younger heads have fewer children
        if age_on(birth, faker.today) >= 26 and rng.random() < 0.7:
            continue  # grown children mostly have households of their own
        surname = head.surname if spouse is None or rng.random() < 0.9 else spouse.surname
        child = faker.person(member_id(slot, block, male, birth), birth, male, surname)
        members.append(_child(faker, child))


def _child(faker: Faker, person: Person) -> tuple[Member, str]:
    child = member(faker, person, Relation.CHILD)
    child.school_stage, child.school, child.grade = faker.school(person.birth)
    if child.school_stage:
        return child, STUDENT
    if age_on(person.birth, faker.today) >= 18:
        child.occupation = faker.rng.choice(ADULT_JOBS)
        return child, IDLE if child.occupation == "待业" else ADULT
    return child, INFANT


def _parents(faker: Faker, slot: HeadSlot, head: Person, members: Members) -> None:
    """Elderly parents, who live with younger heads more often."""
    rng = faker.rng
    if rng.random() >= (0.3 if age_on(head.birth, faker.today) < 50 else 0.15):
        return
    for block, male in ((BLOCK_FATHER, True), (BLOCK_MOTHER, False)):
        birth = member_birth(slot, block, male, (-34.0, -22.0))
        if age_on(birth, faker.today) > 92 or rng.random() < 0.35:
            continue
        number = member_id(slot, block, male, birth)
        parent = faker.person(number, birth, male, head.surname if male else None)
        elder = member(faker, parent, Relation.PARENT)
        elder.occupation = "退休" if rng.random() < 0.55 else "务农"
        if rng.random() < 0.45:
            elder.health_status = rng.choice([HealthStatus.CHRONIC, HealthStatus.SERIOUS])
        members.append((elder, ELDER))
