"""The synthetic county's ground truth: real (synthetic) people, who cares for whom, and what
happened to them between 2020-09 and the last extract night.

Everything the three sources later say is a noisy, partial view of this world, written by
`synthetic.provider`, `synthetic.las` and `synthetic.gp`. The figures are calibrated to the
Norfolk carers' service evaluation (age, sex, relationship, need, district, pathway, Star
readings, sustainment breakdowns); see `synthetic.calibration` for what is checked.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta

from carelink.identity import nhs_check_digit
from synthetic.names import (
    FEMALE_FIRST,
    MALE_FIRST,
    OUT_OF_COUNTY_OUTWARDS,
    STREETS,
    SURNAMES,
    TOWNS,
)

WORLD_START = date(2020, 9, 1)
LEGACY_COHORTS_UNTIL = date(2022, 6, 1)
OLDEST_AGE = 100.0  # birth_date adds up to a year, so nobody generated is over 100
OLDEST_CARER_AGE = 88.0
GENERATION = 16  # the least gap in years between a parent and their child

DISTRICT_WEIGHTS = {
    "Breckland": 12, "Broadland": 12, "Great Yarmouth": 11, "King's Lynn and West Norfolk": 23,
    "North Norfolk": 13, "Norwich": 14, "South Norfolk": 14, "Out of county": 1,
}
DISTRICT_OUTWARDS = {
    "Breckland": ("IP24", "IP25", "NR19", "NR20", "PE37"),
    "Broadland": ("NR7", "NR8", "NR10", "NR12", "NR13"),
    "Great Yarmouth": ("NR29", "NR30", "NR31"),
    "King's Lynn and West Norfolk": ("PE30", "PE31", "PE32", "PE33", "PE34", "PE38"),
    "North Norfolk": ("NR11", "NR25", "NR26", "NR27", "NR28"),
    "Norwich": ("NR1", "NR2", "NR3", "NR4", "NR5", "NR6"),
    "South Norfolk": ("IP20", "IP21", "IP22", "NR14", "NR15", "NR16", "NR18"),
    "Out of county": OUT_OF_COUNTY_OUTWARDS,
}
# What the carer is to the cared-for person (evaluation: partner 53, child 24, parent 14,
# sibling 2, other 7).
RELATIONSHIP_WEIGHTS = {"Partner": 53, "Child": 24, "Parent": 14, "Sibling": 2,
                        "Other relative": 4, "Friend or neighbour": 3}
# Main need, conditioned on the relationship so that the marginal matches the evaluation
# (physical 30, dementia 27, mental health 18, frail 10, LD 7, autism 4, other 3) while a
# parent carer mostly looks after an adult child with a learning disability or autism.
NEED_FOR_PARENT_CARER = {"Learning disability": 35, "Autism": 25, "Mental health": 25,
                         "Physical disability": 15}
NEED_OTHERWISE = {"Physical disability": 27.9, "Dementia": 27.0, "Mental health": 14.5,
                  "Frail elderly": 10.0, "Learning disability": 2.1, "Autism": 0.5, "Other": 3.0}
# Yearly hazards of the events that end caring, by the cared-for person's main need.
DEATH_HAZARD = {"Dementia": 0.13, "Frail elderly": 0.15, "Physical disability": 0.05,
                "Mental health": 0.015, "Learning disability": 0.012, "Autism": 0.004,
                "Other": 0.04}
RESIDENTIAL_HAZARD = {"Dementia": 0.06, "Frail elderly": 0.05, "Physical disability": 0.01,
                      "Learning disability": 0.01}
# Evaluation Table 8: why caring stopped, at the 6- and 12-month checks (shares of "No").
BREAKDOWN_MIX_6M = {"TRANSFERRED_UNPAID": 0.85, "RELATIONSHIP_DETERIORATED": 5.8,
                    "OTHER_DEMANDS": 0.85, "CARED_FOR_DIED": 47.4, "CARER_DIED": 4.2,
                    "CARER_STRESS": 1.7, "CARED_FOR_HEALTH": 25.4, "CARER_HEALTH": 7.6,
                    "OTHER": 5.9}
BREAKDOWN_MIX_12M = {"TRANSFERRED_UNPAID": 0.0, "RELATIONSHIP_DETERIORATED": 7.2,
                     "OTHER_DEMANDS": 0.0, "CARED_FOR_DIED": 36.2, "CARER_DIED": 1.4,
                     "CARER_STRESS": 0.0, "CARED_FOR_HEALTH": 39.1, "CARER_HEALTH": 4.3,
                     "OTHER": 11.8}


def pick(rng: random.Random, weights: dict) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


def rand_date(rng: random.Random, start: date, end: date) -> date:
    if end <= start:
        return start
    return start + timedelta(days=rng.randrange((end - start).days + 1))


@dataclass
class Person:
    pid: str
    first_name: str
    last_name: str
    sex: str  # F or M
    dob: date
    nhs_number: str
    house: str  # "12 Church Lane"
    town: str
    postcode: str
    district: str
    practice_ods: str | None = None
    died_on: date | None = None
    residential_from: date | None = None
    # A house move (and with it, sometimes, a new GP practice).
    moved_on: date | None = None
    old_house: str | None = None
    old_postcode: str | None = None
    old_practice_ods: str | None = None
    former_surname: str | None = None  # surname before a change (marriage)
    roles: set[str] = field(default_factory=set)

    def address_on(self, day: date) -> tuple[str, str]:
        if self.moved_on and day < self.moved_on and self.old_house and self.old_postcode:
            return self.old_house, self.old_postcode
        return self.house, self.postcode

    def practice_on(self, day: date) -> str | None:
        if self.moved_on and day < self.moved_on and self.old_practice_ods:
            return self.old_practice_ods
        return self.practice_ods

    def alive_on(self, day: date) -> bool:
        return self.died_on is None or self.died_on > day


@dataclass
class Caring:
    rid: int
    carer: Person
    cared_for: Person
    relationship: str  # what the carer is to the cared-for person
    main_need: str
    started: date
    ended_on: date | None = None
    end_reason: str | None = None  # contract codes: cared_for_deceased, carer_deceased, …
    receives_services: bool = False

    def current_on(self, day: date) -> bool:
        return self.started <= day and (self.ended_on is None or self.ended_on > day)


@dataclass
class Membership:
    """Which organisations know a carer (decided before any record is written)."""

    provider: bool = False
    las: bool = False
    gp: bool = False


class PeopleFactory:
    """Makes people with realistic names, dates of birth, NHS numbers and addresses."""

    def __init__(self, rng: random.Random, practices_by_district: dict[str, list[str]]):
        self.rng = rng
        self.count = 0
        self.used_nhs: set[str] = set()
        self.practices_by_district = practices_by_district
        self._surnames = [s for s, _ in SURNAMES]
        self._surname_weights = [w for _, w in SURNAMES]

    def nhs_number(self) -> str:
        while True:
            first = str(self.rng.choice((4, 4, 4, 6, 6, 7)))
            nine = first + "".join(str(self.rng.randrange(10)) for _ in range(8))
            check = nhs_check_digit(nine)
            if check is None:
                continue
            number = nine + str(check)
            if number not in self.used_nhs and len(set(number)) > 1:
                self.used_nhs.add(number)
                return number

    def surname(self) -> str:
        return self.rng.choices(self._surnames, weights=self._surname_weights)[0]

    def first_name(self, sex: str) -> str:
        names = FEMALE_FIRST if sex == "F" else MALE_FIRST
        # Earlier names in the lists are commoner: a gentle skew.
        index = min(int(self.rng.paretovariate(1.3)) - 1, len(names) - 1)
        return names[index] if self.rng.random() < 0.5 else self.rng.choice(names)

    def district(self) -> str:
        return pick(self.rng, DISTRICT_WEIGHTS)

    def address(self, district: str) -> tuple[str, str, str]:
        rng = self.rng
        house = f"{rng.randint(1, 180)} {rng.choice(STREETS)}"
        if rng.random() < 0.08:
            house = f"Flat {rng.randint(1, 12)}, {house}"
        town = rng.choice(TOWNS[district])
        outward = rng.choice(DISTRICT_OUTWARDS[district])
        inward = f"{rng.randint(0, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}" \
                 f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        return house, town, f"{outward} {inward}"

    def practice(self, district: str) -> str | None:
        options = self.practices_by_district.get(district)
        return self.rng.choice(options) if options else None

    def person(self, sex: str, dob: date, *, surname: str | None = None,
               first_name: str | None = None, near: Person | None = None,
               not_named: frozenset[str] = frozenset()) -> Person:
        """A new person; `near` makes them live at that person's address, `not_named` keeps
        their first name off names already in the family (nobody has two mothers called
        Margaret, or names two daughters alike)."""
        self.count += 1
        while first_name is None or first_name in not_named:
            first_name = self.first_name(sex)
        if near is not None:
            house, town, postcode, district = near.house, near.town, near.postcode, near.district
            practice = near.practice_ods
        else:
            district = self.district()
            house, town, postcode = self.address(district)
            practice = self.practice(district)
        return Person(
            pid=f"T{self.count:07d}", first_name=first_name,
            last_name=surname or self.surname(), sex=sex, dob=dob,
            nhs_number=self.nhs_number(), house=house, town=town, postcode=postcode,
            district=district, practice_ods=practice,
        )


def adult_age(age: float, *, oldest: float = OLDEST_AGE) -> float:
    """An age drawn past either end of adult life, folded back inside it.

    Clamping piled about 4% of a county onto one birth year (everyone "101", the parents of
    carers in their seventies) and another 1% onto 18: no register looks like that, and a
    spike makes dates of birth agree between strangers far more often than real ones do.
    Folding spreads them over the last dozen years of life and the first few adult ones."""
    if age > oldest:
        return oldest - (age - oldest) % 12
    if age < 18.0:
        return 18.0 + (18.0 - age) % 5
    return age


def birth_date(rng: random.Random, age: float, on: date) -> date:
    days = int(age * 365.25) + rng.randrange(365)
    return on - timedelta(days=days)


def age_on(person: Person, day: date) -> int:
    years = day.year - person.dob.year
    return years - ((day.month, day.day) < (person.dob.month, person.dob.day))


@dataclass
class World:
    end: date
    people: list[Person] = field(default_factory=list)
    carings: list[Caring] = field(default_factory=list)
    membership: dict[str, Membership] = field(default_factory=dict)  # carer pid → sources
    hard_negatives: list[tuple[str, str, str]] = field(default_factory=list)
    provider_carers: list[Person] = field(default_factory=list)
    referral_dates: dict[str, date] = field(default_factory=dict)

    def carings_of(self, carer: Person) -> list[Caring]:
        return list(self._by_carer.get(carer.pid, []))

    def person(self, pid: str) -> Person:
        return self._people[pid]

    def index(self) -> None:
        self._people = {p.pid: p for p in self.people}
        self._by_carer: dict[str, list[Caring]] = {}
        self._by_cared_for: dict[str, list[Caring]] = {}
        for c in self.carings:
            self._by_carer.setdefault(c.carer.pid, []).append(c)
            self._by_cared_for.setdefault(c.cared_for.pid, []).append(c)

    def carings_for(self, cared_for: Person) -> list[Caring]:
        return self._by_cared_for.get(cared_for.pid, [])


def build_world(rng: random.Random, *, provider_carers: int, end: date,
                practices_by_district: dict[str, list[str]]) -> World:
    """Carers (those the provider knows and those only the council or a GP knows), the people
    they care for, hard negatives, and the events that end caring up to `end`."""
    factory = PeopleFactory(rng, practices_by_district)
    world = World(end=end)
    n_las_only = round(provider_carers * 0.45)
    n_gp_only = round(provider_carers * 0.9)
    kinds = ["provider"] * provider_carers + ["las"] * n_las_only + ["gp"] * n_gp_only
    rid = 0
    for kind in kinds:
        membership = Membership(
            provider=kind == "provider",
            las=kind == "las" or (kind == "provider" and rng.random() < 0.13),
            gp=kind == "gp" or (kind == "provider" and rng.random() < 0.22),
        )
        if kind == "provider":
            referral = _referral_date(rng, end)
            started = referral - timedelta(days=int(rng.uniform(0.3, 8) * 365))
        else:
            referral = None
            started = rand_date(rng, date(2006, 1, 1), end - timedelta(days=30))
        carer_age = adult_age(rng.gauss(61, 13), oldest=OLDEST_CARER_AGE)
        carer_sex = "F" if rng.random() < 0.71 else "M"
        carer = factory.person(carer_sex, birth_date(rng, carer_age, referral or end))
        if membership.las and membership.provider is False and rng.random() < 0.1:
            membership.gp = True  # a few council carers are on a GP register too
        world.people.append(carer)
        world.membership[carer.pid] = membership
        carer.roles.add("carer")
        if referral:
            world.provider_carers.append(carer)
            world.referral_dates[carer.pid] = referral
        n_cared_for = rng.choices((1, 2, 3), weights=(86, 12, 2))[0]
        named: set[str] = set()
        for i in range(n_cared_for):
            relationship = pick(rng, RELATIONSHIP_WEIGHTS) if i == 0 else rng.choice(
                ("Child", "Other relative", "Parent"))
            if i > 0 and relationship == "Partner":
                relationship = "Child"
            # Nobody over 84 has a parent alive to care for, nor anybody under 34 an adult child.
            if relationship == "Child" and age_on(carer, end) > OLDEST_AGE - GENERATION:
                relationship = "Partner" if i == 0 else "Other relative"
            elif relationship == "Parent" and age_on(carer, end) < 18 + GENERATION:
                relationship = "Sibling" if i == 0 else "Other relative"
            need = pick(rng, NEED_FOR_PARENT_CARER if relationship == "Parent" else NEED_OTHERWISE)
            cared_for = _cared_for_person(rng, factory, world, carer, relationship, end,
                                          not_named=frozenset(named))
            named.add(cared_for.first_name)
            rid += 1
            caring = Caring(rid, carer, cared_for, relationship, need, started,
                            receives_services=rng.random() < (0.75 if membership.las else 0.4))
            world.carings.append(caring)
            cared_for.roles.add("cared_for")
            # Siblings sharing the care of a parent: the same person entered by two carers.
            if relationship == "Child" and rng.random() < 0.09:
                rid += 1
                world.carings.append(_co_carer(rng, factory, world, caring, rid, end))
    _move_house(rng, factory, world)
    _marriage_surname_changes(rng, world)
    world.index()
    return world


def _referral_date(rng: random.Random, end: date) -> date:
    # Referrals grow a little over time; weight later dates slightly.
    span = (end - WORLD_START).days
    return WORLD_START + timedelta(days=int(span * (rng.random() ** 0.85)))


def _cared_for_person(rng: random.Random, factory: PeopleFactory, world: World, carer: Person,
                      relationship: str, end: date, *, not_named: frozenset[str] = frozenset()
                      ) -> Person:
    carer_age = age_on(carer, end)
    same_surname = True
    lives_with = True
    first_name = None
    if relationship == "Partner":
        sex = ("M" if carer.sex == "F" else "F") if rng.random() < 0.95 else carer.sex
        age = carer_age + rng.gauss(1.5 if sex == "M" else -1.5, 4)
        same_surname = rng.random() < 0.85
        if same_surname and rng.random() < 0.12:
            # A hard negative: same surname and initial at the same address (John and Joan).
            initial = carer.first_name[0]
            names = [n for n in (FEMALE_FIRST if sex == "F" else MALE_FIRST)
                     if n[0] == initial and n != carer.first_name]
            first_name = rng.choice(names) if names else None
    elif relationship == "Child":  # the carer is the child; the cared-for is a parent
        sex = "F" if rng.random() < 0.62 else "M"
        age = max(carer_age + rng.gauss(29, 5), carer_age + GENERATION)
        same_surname = rng.random() < (0.85 if carer.sex == "M" else 0.4)
        lives_with = rng.random() < 0.45
        if carer.sex == "M" and sex == "M" and same_surname and rng.random() < 0.2:
            first_name = carer.first_name  # a son with his father's first name
            lives_with = True
    elif relationship == "Parent":  # the carer is the parent of an adult child
        sex = "M" if rng.random() < 0.6 else "F"
        age = carer_age - rng.gauss(30, 6)
        same_surname = rng.random() < 0.9
        lives_with = rng.random() < 0.8
    elif relationship == "Sibling":
        sex = rng.choice("FM")
        age = carer_age + rng.gauss(0, 5)
        same_surname = rng.random() < 0.6
        lives_with = rng.random() < 0.4
    else:
        sex = "F" if rng.random() < 0.6 else "M"
        age = carer_age + rng.gauss(10, 12)
        same_surname = relationship == "Other relative" and rng.random() < 0.4
        lives_with = rng.random() < 0.2
    age = adult_age(age)
    if relationship == "Child":  # folding must not make a parent younger than their child
        age = max(age, carer_age + GENERATION)
    elif relationship == "Parent":
        age = min(age, carer_age - GENERATION)
    if first_name != carer.first_name:  # only a son named after his father shares it
        not_named = not_named | {carer.first_name}
    person = factory.person(
        sex, birth_date(rng, age, end), surname=carer.last_name if same_surname else None,
        first_name=first_name, near=carer if lives_with else None,
        not_named=not_named)
    world.people.append(person)
    if lives_with and same_surname:
        kind = ("same_first_name_same_address" if person.first_name == carer.first_name
                else "same_surname_same_address")
        world.hard_negatives.append((carer.pid, person.pid, kind))
    return person


def _co_carer(rng: random.Random, factory: PeopleFactory, world: World, caring: Caring,
              rid: int, end: date) -> Caring:
    """A sibling of the carer who also cares for the same parent (sometimes their twin)."""
    carer = caring.carer
    twin = rng.random() < 0.25
    sex = rng.choice("FM")
    if twin:
        dob = carer.dob
    else:
        dob = carer.dob + timedelta(days=int(rng.gauss(0, 5) * 365) or 400)
        dob = max(dob, caring.cared_for.dob + timedelta(days=int(GENERATION * 365.25)))
    names = FEMALE_FIRST if sex == "F" else MALE_FIRST
    first = rng.choice([n for n in names if n != carer.first_name])
    sibling = factory.person(sex, dob, surname=carer.last_name if rng.random() < 0.6 else None,
                             first_name=first, near=carer if rng.random() < 0.35 else None)
    if twin:
        sibling.last_name = carer.last_name
        world.hard_negatives.append((carer.pid, sibling.pid, "twins"))
    sibling.roles.add("carer")
    world.people.append(sibling)
    world.membership[sibling.pid] = Membership(
        provider=False, las=rng.random() < 0.25, gp=rng.random() < 0.45)
    if not (world.membership[sibling.pid].las or world.membership[sibling.pid].gp):
        world.membership[sibling.pid].gp = True
    return Caring(rid, sibling, caring.cared_for, "Child", caring.main_need,
                  caring.started + timedelta(days=rng.randrange(0, 400)),
                  receives_services=caring.receives_services)


def _move_house(rng: random.Random, factory: PeopleFactory, world: World) -> None:
    """About 5% of carers move house in the period, with those living with them; a move
    across districts changes GP practice."""
    by_address: dict[str, list[Person]] = {}
    for p in world.people:
        by_address.setdefault(p.postcode + p.house, []).append(p)
    for carer in [p for p in world.people if "carer" in p.roles]:
        if carer.moved_on or rng.random() > 0.05:
            continue
        moved_on = rand_date(rng, WORLD_START, world.end - timedelta(days=20))
        district = carer.district if rng.random() < 0.6 else factory.district()
        house, town, postcode = factory.address(district)
        practice = (carer.practice_ods if district == carer.district and rng.random() < 0.7
                    else factory.practice(district))
        for p in by_address[carer.postcode + carer.house]:
            if p.moved_on:
                continue
            p.old_house, p.old_postcode, p.old_practice_ods = p.house, p.postcode, p.practice_ods
            p.house, p.town, p.postcode, p.district = house, town, postcode, district
            p.practice_ods, p.moved_on = practice, moved_on


def _marriage_surname_changes(rng: random.Random, world: World) -> None:
    for p in world.people:
        if p.sex == "F" and "carer" in p.roles and rng.random() < 0.006:
            p.former_surname = p.last_name
            p.last_name = rng.choice([s for s, _ in SURNAMES])


def simulate_endings(rng: random.Random, world: World, hazard_from: dict[str, date]) -> None:
    """Deaths, moves into residential care, and caring that simply stops, by yearly hazard.

    Provider carers on an action plan get their endings from the sustainment checks instead
    (see synthetic.provider), so that the checks' breakdown mix matches the evaluation; here
    their events start only after the 12-month check window.
    """
    end = world.end
    dead_checked: set[str] = set()
    for caring in world.carings:
        cared_for, carer = caring.cared_for, caring.carer
        start = max(caring.started, world.referral_dates.get(carer.pid, caring.started),
                    hazard_from.get(cared_for.pid, caring.started))
        years = (end - start).days / 365.25
        if years <= 0:
            continue
        age = age_on(cared_for, end)
        if cared_for.pid not in dead_checked and not (
                cared_for.died_on or cared_for.residential_from):
            dead_checked.add(cared_for.pid)
            hazard = DEATH_HAZARD[caring.main_need] * (1.6 if age > 85 else 1.0)
            t = rng.expovariate(hazard)
            if t < years:
                cared_for.died_on = start + timedelta(days=int(t * 365.25))
            elif caring.main_need in RESIDENTIAL_HAZARD:
                t2 = rng.expovariate(RESIDENTIAL_HAZARD[caring.main_need])
                if t2 < years:
                    cared_for.residential_from = start + timedelta(days=int(t2 * 365.25))
        if carer.pid not in dead_checked and carer.died_on is None:
            dead_checked.add(carer.pid)
            start = max(start, hazard_from.get(carer.pid, start))
            years = (end - start).days / 365.25
            hazard = 0.035 if age_on(carer, end) > 78 else 0.006
            t = rng.expovariate(hazard)
            if t < years:
                carer.died_on = start + timedelta(days=int(t * 365.25))
    for caring in world.carings:
        # A sibling joins the care of a parent up to a year after the first carer, but a
        # parent's death (drawn above from the first caring's start) may come sooner: the
        # sibling then joined before it. A caring begun after the death would never end.
        gone = [d for d in (caring.cared_for.died_on, caring.cared_for.residential_from) if d]
        if gone and caring.started >= min(gone):
            caring.started = min(gone) - timedelta(days=30 + caring.rid % 180)
    for caring in world.carings:
        end_caring(caring)
        if caring.ended_on is None and caring.relationship != "Partner":
            t = rng.expovariate(0.02)
            years = (end - caring.started).days / 365.25
            if t < years:
                caring.ended_on = caring.started + timedelta(days=int(t * 365.25))
                caring.end_reason = "breakdown"


def end_caring(caring: Caring) -> None:
    """Set the caring relationship's end from the people's events (earliest wins)."""
    candidates = []
    if caring.cared_for.died_on:
        candidates.append((caring.cared_for.died_on, "cared_for_deceased"))
    if caring.carer.died_on:
        candidates.append((caring.carer.died_on, "carer_deceased"))
    if caring.cared_for.residential_from:
        candidates.append((caring.cared_for.residential_from, "residential_care"))
    if caring.ended_on and caring.end_reason:
        candidates.append((caring.ended_on, caring.end_reason))
    candidates = [c for c in candidates if c[0] >= caring.started]
    if candidates:
        caring.ended_on, caring.end_reason = min(candidates)


def stable_fraction(*parts: object) -> float:
    """A deterministic number in [0, 1) from the parts (Python's hash() is salted per
    process, which would make a seeded county differ from run to run)."""
    return zlib.crc32("|".join(map(str, parts)).encode()) / 2**32
