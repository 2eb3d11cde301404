"""What the benchmarks share: an organisation's store built as the importer would write it (checked row for
row against the real importer), a throwaway PostgreSQL schema, and the stopwatch and profile printer that say
where the time goes.

The store holds eight organisations' plans (plans, actions, owner roles and their links, a "created" history
row per action, an import record per plan) plus a people directory as `edibot people import` writes it, but
built with bulk INSERTs instead of reading 100,000 spreadsheet rows.
"""

from __future__ import annotations

import cProfile
import csv
import hashlib
import io
import os
import pstats
import random
import re
import socket
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from sqlalchemy import Connection, event, insert, make_url, select, text  # noqa: E402

from storage.db import Database, make_engine, sqlite_url  # noqa: E402
from storage.importing.headers import Role, map_columns  # noqa: E402
from storage.importing.service import (  # noqa: E402
    ImportSummary,
    _file_fields,
    _file_values,
    _match_key,
    _unique,
    import_plan,
    ref_prefix,
)
from storage.importing.tables import ParsedAction, Problem  # noqa: E402
from storage.models import (  # noqa: E402
    Action,
    Base,
    HistoryEntry,
    ImportRun,
    Owner,
    Person,
    Plan,
    action_owners,
    person_roles,
)
from storage.people import import_people  # noqa: E402
from storage.rules.deadlines import interpret_deadline  # noqa: E402
from storage.rules.owners import known_owners, owner_key, split_owners  # noqa: E402
from storage.rules.rag import parse_rag, rag_in_progress  # noqa: E402
from storage.rules.refs import next_numbered_ref, plan_ref, source_ref  # noqa: E402
from storage.store import person_key  # noqa: E402

ACTIONS = 100_000
PLAN_ACTIONS = 12_500  # eight plans
MINE = 50  # open actions the benchmarked person answers for
SEED = 20250303
LONDON = ZoneInfo("Europe/London")
IMPORTED_AT = datetime(2024, 4, 2, 10, 0, tzinfo=LONDON)
NOW = datetime(2025, 3, 3, 9, 0, tzinfo=LONDON)  # the fixed clock the commands run at
PERSON = "Amina Khan"
PERSON_ROLES = ("Equality and Inclusion Manager", "Workforce Equality Lead", "Staff Networks Team")


PLANS = [  # (name, whether the plan numbers its actions)
    ("Northbridge Council EDI Action Plan 2024-27", True),
    ("Westmoor NHS Trust Equality Delivery Plan", False),
    ("University of Eastham EDI Strategy Action Plan", True),
    ("Riverside Housing Inclusion Plan", False),
    ("Kingsford Police Race Action Plan", True),
    ("Hallam Museums Access and Inclusion Plan", False),
    ("Greenvale Schools Trust EDI Plan", True),
    ("Castleport Fire and Rescue Inclusion Plan", False),
]
HEADERS = ["Ref", "Theme", "Action", "Lead", "Timescale", "Success measures", "RAG", "Progress update"]
THEMES = [
    "Leadership and accountability",
    "Workforce and recruitment",
    "Communities and engagement",
    "Service delivery and access",
    "Data and insight",
    "Culture and wellbeing",
]
AREAS = [
    "Recruitment",
    "Learning and Development",
    "Payroll",
    "Estates",
    "Procurement",
    "Communications",
    "Digital Services",
    "Customer Services",
    "Adult Social Care",
    "Children's Services",
    "Public Health",
    "Housing",
    "Planning",
    "Libraries",
    "Museums",
    "Parks",
    "Waste",
    "Finance",
    "Legal",
    "Democratic Services",
    "Policy",
    "Performance",
    "Community Safety",
    "Licensing",
    "Transport",
    "Highways",
    "Education",
    "Skills",
    "Economic Development",
    "Culture",
    "Sport",
    "Leisure",
    "Registrars",
    "Revenues and Benefits",
    "Internal Audit",
    "Risk",
    "Health and Safety",
    "Occupational Health",
    "Wellbeing",
    "Research",
    "Admissions",
    "Student Services",
    "Facilities",
    "Fleet",
    "Emergency Planning",
    "Safeguarding",
    "Volunteering",
    "Partnerships",
    "Engagement",
    "Insight",
    "Data",
    "IT",
    "Information Governance",
    "Marketing",
    "Events",
    "Fundraising",
    "Governance",
    "Strategy",
    "Transformation",
    "Commissioning",
]
ROLE_FORMS = [
    "Head of {}",
    "{} Manager",
    "{} Lead",
    "{} Team",
    "Director of {}",
    "{} Officer",
    "{} Coordinator",
    "{} Business Partner",
    "Assistant Director of {}",
    "{} Service Manager",
    "{} Advisor",
    "{} Operations Manager",
    "{} Programme Lead",
    "{} Team Leader",
    "Senior {} Officer",
    "{} Board",
    "{} Working Group",
    "{} Project Officer",
    "{} Specialist",
    "{} Analyst",
]
WHEN = [
    "June 23",
    "Sept 24",
    "31/3/25",
    "Q3 2024",
    "Q1 2024/25",
    "Q1 2024 - Q2 2024",
    "Ongoing",
    "Annually",
    "Nov 2022 & Ongoing",
    "From April 2025",
    "Next staff survey",
    "",
    "June/July 2024",
    "2025",
    "March 2026",
    "31/12/2025",
    "Q2 2025/26",
    "By end of 2026",
    "Quarterly",
    "April 2027",
    "TBC",
    "Autumn 2025",
    "30/06/2025",
    "Jan 25",
]
VERBS = [
    "Review",
    "Publish",
    "Train",
    "Launch",
    "Embed",
    "Survey",
    "Refresh",
    "Audit",
    "Support",
    "Report on",
    "Co-produce",
    "Monitor",
    "Pilot",
    "Evaluate",
    "Extend",
]
OBJECTS = [
    "recruitment adverts",
    "the pay gap report",
    "staff networks",
    "equality impact assessments",
    "the website's accessibility",
    "hate crime reporting",
    "the induction process",
    "board diversity",
    "reasonable adjustments passports",
    "the inclusive language guide",
    "mentoring for Black staff",
    "menopause support",
    "the disability confident scheme",
    "translation and interpreting",
    "anonymised shortlisting",
    "exit interview data",
    "community forums",
    "supplier diversity",
]
PURPOSES = [
    "so that under-represented groups apply",
    "to close the gaps the data shows",
    "with the staff networks",
    "in every directorate",
    "and report progress to the board",
    "using the latest census data",
    "alongside the trade unions",
    "for front-line teams",
]
MEASURES = [
    "Increase in applications from ethnic minority candidates",
    "Pay gap reduced year on year",
    "95% of managers trained",
    "Staff survey inclusion index up 5 points",
    "All EIAs published",
    "Fewer complaints about access",
    "Network membership doubles",
    "Board reflects the community",
]
PROGRESS = [
    "On track",
    "Draft agreed with the networks; consultation in May",
    "Waiting on budget approval",
    "Delayed by restructure",
    "Amber: resourcing gap while post is vacant",
    "",
    "",
    "Delivered; evaluation to follow",
    "Green - delivered first phase",
    "Survey closed; analysis under way",
    "Paused pending review",
]
FIRST = [
    "Aisha",
    "Ben",
    "Chloe",
    "Daniel",
    "Efua",
    "Farah",
    "George",
    "Hannah",
    "Imran",
    "Jack",
    "Kemi",
    "Liam",
    "Maya",
    "Nathan",
    "Olivia",
    "Priya",
    "Qasim",
    "Rachel",
    "Sam",
    "Tariq",
    "Uma",
    "Victor",
    "Wei",
    "Xavier",
    "Yasmin",
    "Zoe",
    "Adebayo",
    "Bethan",
    "Callum",
    "Deepa",
    "Eilidh",
    "Fatima",
    "Gareth",
    "Harpreet",
    "Ifeoma",
    "Joanna",
    "Kwame",
    "Leah",
    "Mohammed",
    "Niamh",
    "Oluwaseun",
    "Patrick",
    "Rhys",
    "Sofia",
    "Tomasz",
    "Usha",
    "Vikram",
    "Wiktoria",
    "Yusuf",
    "Zainab",
]
LAST = [
    "Ahmed",
    "Brown",
    "Campbell",
    "Davies",
    "Evans",
    "Fernandes",
    "Green",
    "Hughes",
    "Iqbal",
    "Jones",
    "Kowalski",
    "Lewis",
    "Mensah",
    "Nowak",
    "Okafor",
    "Patel",
    "Quinn",
    "Roberts",
    "Singh",
    "Taylor",
    "Usman",
    "Varga",
    "Walker",
    "Xu",
    "Young",
    "Zhang",
    "Adeyemi",
    "Begum",
    "Chowdhury",
    "Dhillon",
    "Edwards",
    "Francis",
    "Gill",
    "Hussain",
    "Islam",
    "Johnson",
    "Kaur",
    "Lee",
    "Murphy",
    "Nguyen",
    "O'Brien",
    "Price",
    "Rahman",
    "Smith",
    "Thomas",
    "Uddin",
    "Vaughan",
    "Williams",
    "Yilmaz",
    "Wright",
]
PEOPLE = 2_500
ADMINS = 5
PEOPLE_HEADERS = ["owner", "name", "email", "timezone", "slack_id", "teams_id", "admin"]


# -- the organisations' plans and people, as files would have them ---------------------------------------


@dataclass
class PlanFile:
    name: str
    file_name: str
    headers: list[str]
    rows: list[list[str]]

    def csv_bytes(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.headers)
        writer.writerows(self.rows)
        return out.getvalue().encode("utf-8")


@dataclass
class World:
    plans: list[PlanFile]
    people_rows: list[list[str]]  # the people CSV's rows, PEOPLE_HEADERS


def role_names() -> list[str]:
    return [form.format(area) for area in AREAS for form in ROLE_FORMS]


def owner_cell(rng: random.Random, roles: Sequence[str], *, numbered: bool) -> str:
    roll = rng.random()
    if roll < 0.02 and numbered:  # unnumbered, "N/A" beside an undated timescale reads as a slid row
        return rng.choice(["N/A", "None", "TBC"])
    if roll < 0.70:
        return rng.choice(roles)
    if roll < 0.93:
        return f"{rng.choice(roles)} / {rng.choice(roles)}"
    return "; ".join(rng.sample(list(roles), 3))


def plan_rows(rng: random.Random, count: int, *, numbered: bool, roles: Sequence[str]) -> list[list[str]]:
    rows: list[list[str]] = []
    per_theme = -(-count // len(THEMES))
    for number in range(count):
        theme_no, item = divmod(number, per_theme)
        title = f"{rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(PURPOSES)} ({number + 1})"
        rows.append(
            [
                f"{theme_no + 1}.{item + 1}" if numbered else "",
                THEMES[theme_no]
                if item == 0
                else "",  # a theme is written once and carries down, as in plans
                title,
                owner_cell(rng, roles, numbered=numbered),
                rng.choice(WHEN),
                rng.choice(MEASURES),
                rng.choice(["Red", "Amber", "Amber", "Green", "Green", "Green", "Blue", ""]),
                rng.choice(PROGRESS),
            ]
        )
    return rows


def place_person(rng: random.Random, plans: list[PlanFile], roles: Sequence[str], *, open_count: int) -> None:
    """Give PERSON's roles `open_count` open actions (some shared with other roles) and a few done ones."""
    done_count = 6
    slots = rng.sample([(p, r) for p in range(3) for r in range(len(plans[p].rows))], open_count + done_count)
    for number, (plan_no, row_no) in enumerate(slots):
        row = plans[plan_no].rows[row_no]
        mine = PERSON_ROLES[number % len(PERSON_ROLES)]
        if number == 0:
            row[3] = f"{PERSON_ROLES[0]} / {PERSON_ROLES[1]}"  # two of her roles on one action: listed once
        elif number % 4 == 1:
            row[3] = f"{mine} / {rng.choice(roles)}"
        else:
            row[3] = mine
        if number < open_count:  # open: not rated Blue, in the RAG cell or at the start of the progress note
            while row[6] == "Blue" or (not row[6] and rag_in_progress(row[7]) == "blue"):
                row[6], row[7] = rng.choice(["Red", "Amber", "Green", ""]), rng.choice(PROGRESS)
        else:
            row[6] = "Blue"


def people_rows(rng: random.Random, roles: Sequence[str], count: int) -> list[list[str]]:
    names = [f"{first} {last}" for first in FIRST for last in LAST if f"{first} {last}" != PERSON]
    chosen = rng.sample(names, count - 1)
    identity: dict[str, list[str]] = {}
    for number, name in enumerate([PERSON, *chosen]):
        local = re.sub(r"[^a-z]+", ".", name.lower()).strip(".")
        identity[name] = [
            f"{local}{number}@example.org",
            rng.choice(["Europe/London"] * 8 + ["Europe/Dublin", ""]),
            "U" + "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", k=10)),
            str(uuid.UUID(int=rng.getrandbits(128), version=4)) if rng.random() < 0.6 else "",
            "yes" if 1 <= number <= ADMINS else "",
        ]
    mapped: dict[str, list[str]] = defaultdict(list)
    mapped[PERSON] = list(PERSON_ROLES)
    mapped[chosen[0]].append(PERSON_ROLES[2])  # someone shares her team role
    for role in roles:
        if rng.random() < 0.85:  # some roles have nobody mapped yet
            for name in rng.sample(chosen, rng.choice([1, 1, 1, 2, 3])):
                mapped[name].append(role)
    rows: list[list[str]] = []
    for name in [PERSON, *chosen]:
        for role in mapped.get(name) or [""]:
            email, zone, slack, teams, admin = identity[name]
            rows.append([role, name, email, zone, slack, teams, admin])
    return rows


def make_world(*, plan_actions: int, people: int, seed: int, plans: int = len(PLANS)) -> World:
    rng = random.Random(seed)
    roles = role_names()
    files = [
        PlanFile(
            name,
            re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") + ".csv",
            HEADERS,
            plan_rows(rng, plan_actions, numbered=numbered, roles=roles),
        )
        for name, numbered in PLANS[:plans]
    ]
    place_person(rng, files, roles, open_count=min(MINE, plan_actions))
    for plan, (_, numbered) in zip(files, PLANS, strict=False):
        if not numbered:  # a plan that doesn't number its actions has no Ref column at all
            plan.headers, plan.rows = HEADERS[1:], [row[1:] for row in plan.rows]
    return World(files, people_rows(rng, roles, people))


# -- the builder: the importer's rows, written in bulk ----------------------------------------------------


def parse(plan: PlanFile) -> tuple[list[ParsedAction], list[Problem]]:
    """What interpret_document reads from these (clean, single-table) files, without reading a file."""
    columns = map_columns(plan.headers)
    role_index: dict[Role, int] = {
        c.role: c.index for c in columns if c.role is not None and c.role != "group"
    }
    groups = [c for c in columns if c.role == "group"]
    owner_header = next((c.header for c in columns if c.role == "owner"), None)
    deadline_header = next((c.header for c in columns if c.role == "deadline"), None)
    actions: list[ParsedAction] = []
    problems: list[Problem] = []
    carried: dict[int, str] = {}
    for number, row in enumerate(plan.rows):
        line = number + 2

        def text(role: Role, row: list[str] = row) -> str | None:
            index = role_index.get(role)
            return row[index] or None if index is not None else None

        for column in groups:
            if row[column.index]:
                carried[column.index] = row[column.index]
        group_path = [(c.level or "group", carried[c.index]) for c in groups if carried.get(c.index)]
        deadline = interpret_deadline(text("deadline") or "")
        progress = text("progress")
        rag_text = text("rag")
        rag = parse_rag(rag_text) if rag_text else None
        if rag is None and progress:
            rag = rag_in_progress(progress)
        cells = {header: cell for header, cell in zip(plan.headers, row, strict=True) if cell}
        action = ParsedAction(
            title=text("title") or text("action") or "",
            group_path=group_path,
            deadline=deadline,
            owners=[],
            owner_header=owner_header,
            owners_text=text("owner") or "",
            cells=cells,
            raw_cells=dict(cells),
            line=line,
            where="",
            source_ref=text("ref"),
            description=text("description"),
            how=None,
            outputs=text("outputs"),
            progress=progress,
            rag=rag,
            warnings=list(deadline.warnings),
        )
        if deadline_header and deadline.kind == "unknown":
            written = deadline.text.strip()
            if not written:
                message = "No deadline is given; the owner will be asked to set one."
            else:
                reason = (
                    deadline.warnings[0] if deadline.warnings else f"'{written}' is not a date I understand"
                )
                message = f"{reason.rstrip('.')}; the owner will be asked to set a date."
            problems.append(Problem(line, deadline_header, written, message, ""))
        actions.append(action)
    known = known_owners(action.owners_text for action in actions)
    for action in actions:
        split = split_owners(action.owners_text, known=known)
        action.owners = list(split.owners)
        action.warnings.extend(split.warnings)
        if owner_header is not None and not action.owners:
            problems.append(
                Problem(
                    action.line,
                    owner_header,
                    action.owners_text,
                    "No owner is named, so nobody will be reminded about this action.",
                    "",
                )
            )
    problems.sort(key=lambda problem: (problem.where, problem.row))
    return actions, problems


def ids_by(connection: Connection, column: Any, key_column: Any, keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(connection.execute(select(key_column, column).where(key_column.in_(chunk))).all())
    return found


def _ref_keeper(items: Sequence[ParsedAction], numbering: SimpleNamespace) -> Callable[[ParsedAction], str]:
    """Each new action's reference as a first import gives it (storage.importing.service._RefKeeper, with
    nothing in use yet): the plan's own as written, its number under the prefix, else the next number."""
    written = [item.source_ref for item in items if item.source_ref]
    in_use: set[str] = set()
    taken = {ref for ref in map(plan_ref, written) if ref is not None}
    taken |= {source_ref(numbering.ref_prefix, text) for text in written}

    def new_ref(item: ParsedAction) -> str:
        if item.source_ref:
            for candidate in (plan_ref(item.source_ref), source_ref(numbering.ref_prefix, item.source_ref)):
                if candidate is not None and candidate not in in_use:
                    in_use.add(candidate)
                    return candidate
        ref, numbering.next_number = next_numbered_ref(
            numbering.ref_prefix, numbering.next_number, taken=taken
        )
        in_use.add(ref)
        taken.add(ref)
        return ref

    return new_ref


def write_plan(connection: Connection, plan: PlanFile, owner_ids: dict[str, int], now: datetime) -> int:
    """One plan as a first import writes it (storage.importing.service._apply), in a few multi-row INSERTs."""
    items, problems = parse(plan)
    source = plan.file_name
    taken = set(connection.scalars(select(Plan.ref_prefix)))
    prefix = ref_prefix(plan.name, taken)
    numbering = SimpleNamespace(ref_prefix=prefix, next_number=1)
    new_ref = _ref_keeper(items, numbering)
    rows: list[dict[str, Any]] = []
    keys_used: set[str] = set()
    for position, item in enumerate(items):
        fields = _file_fields(item)
        values = {**_file_values(item, fields), "match_key": _unique(_match_key(item), keys_used)}
        values.update(
            position=position,
            ref=new_ref(item),
            created_at=now,
            updated_at=now,
            archived=False,
            status=fields["status"],
            progress_note=item.progress,
            rag=item.rag,
        )
        rows.append(values)
    plan_id = connection.execute(
        insert(Plan).returning(Plan.id),
        dict(
            name=plan.name,
            ref_prefix=prefix,
            source_name=source,
            restricted=False,
            paused=False,
            next_number=numbering.next_number,
            created_at=now,
            imported_at=now,
        ),
    ).scalar_one()
    new_owners: dict[str, str] = {}
    for item in items:
        for name in item.owners:
            if owner_key(name) not in owner_ids:
                new_owners.setdefault(owner_key(name), name)
    if new_owners:
        connection.execute(insert(Owner), [{"name": name, "key": key} for key, name in new_owners.items()])
        owner_ids.update(ids_by(connection, Owner.id, Owner.key, list(new_owners)))
    for values in rows:
        values["plan_id"] = plan_id
    connection.execute(insert(Action), rows)
    id_of = dict(
        connection.execute(select(Action.match_key, Action.id).where(Action.plan_id == plan_id)).all()
    )
    ids = [id_of[values["match_key"]] for values in rows]
    links = [
        {"action_id": action_id, "owner_id": owner_ids[owner_key(name)], "position": position}
        for action_id, item in zip(ids, items, strict=True)
        for position, name in enumerate(item.owners)
    ]
    if links:
        connection.execute(insert(action_owners), links)
    connection.execute(
        insert(HistoryEntry),
        [
            {
                "action_id": action_id,
                "at": now,
                "actor": "import",
                "surface": "import",
                "field": "created",
                "from_value": None,
                "to_value": item.title,
                "note": f"from {source}",
            }
            for action_id, item in zip(ids, items, strict=True)
        ],
    )
    connection.execute(
        insert(ImportRun),
        {
            "plan_id": plan_id,
            "at": now,
            "source_name": source,
            "sha256": hashlib.sha256(plan.csv_bytes()).hexdigest(),
            # every generated row is an action (no headings, nothing to report): the check holds it to that
            "summary": asdict(ImportSummary(added=len(rows), rows=len(rows), rows_as_actions=len(rows))),
            "problems": [
                {"row": p.row, "column": p.column, "text": p.text, "message": p.message} for p in problems
            ],
        },
    )
    return len(rows)


def write_people(
    connection: Connection, rows: list[list[str]], owner_ids: dict[str, int], now: datetime
) -> None:
    """The people directory as storage.people.import_people writes it from a CSV with these rows."""
    people: dict[str, dict[str, Any]] = {}
    roles: list[tuple[str, str]] = []
    new_roles: dict[str, str] = {}
    for role, name, email, zone, slack, teams, admin in rows:
        key = person_key(name)
        person = people.setdefault(
            key,
            {
                "name": name.strip(),
                "key": key,
                "email": email or None,
                "timezone": zone or None,
                "working_days": "Mon-Fri",
                "slack_id": slack or None,
                "teams_id": teams or None,
                "is_admin": False,
                "created_at": now,
            },
        )
        if admin.lower() in ("yes", "y", "true", "1", "admin"):
            person["is_admin"] = True
        if role and (key, owner_key(role)) not in roles:
            if owner_key(role) not in owner_ids:  # a role no plan names yet: added, as owner_or_new does
                new_roles.setdefault(owner_key(role), re.sub(r"\s+", " ", role).strip())
            roles.append((key, owner_key(role)))
    if new_roles:
        connection.execute(insert(Owner), [{"name": name, "key": key} for key, name in new_roles.items()])
        owner_ids.update(ids_by(connection, Owner.id, Owner.key, list(new_roles)))
    connection.execute(insert(Person), list(people.values()))
    person_ids = ids_by(connection, Person.id, Person.key, list(people))
    connection.execute(
        insert(person_roles), [{"person_id": person_ids[p], "owner_id": owner_ids[o]} for p, o in roles]
    )


def build(database: Database, world: World, *, now: datetime = IMPORTED_AT) -> None:
    with database.engine.begin() as connection:
        owner_ids = dict(connection.execute(select(Owner.key, Owner.id)).all())
        for plan in world.plans:
            write_plan(connection, plan, owner_ids, now)
        write_people(connection, world.people_rows, owner_ids, now)


def check_builder(folder: Path) -> str:
    """Import a sample world through the real importer and build it with the builder: every row must match."""
    world = make_world(plan_actions=150, people=60, seed=SEED + 1, plans=4)
    real = Database.open(sqlite_url(folder / "real"))
    for plan in world.plans:
        path = folder / plan.file_name
        path.write_bytes(plan.csv_bytes())
        import_plan(real, path, now=IMPORTED_AT, plan_name=plan.name)
    people_csv = folder / "people.csv"
    with people_csv.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows([PEOPLE_HEADERS, *world.people_rows])
    summary = import_people(real, people_csv, now=IMPORTED_AT)
    if summary.problems:
        raise SystemExit(f"builder check: the people import reported problems: {summary.problems[:3]}")
    built = Database.open(sqlite_url(folder / "built"))
    build(built, world)
    compared = 0
    for table in Base.metadata.sorted_tables:
        order = list(table.primary_key.columns)
        with real.engine.connect() as a, built.engine.connect() as b:
            want = a.execute(select(table).order_by(*order)).all()
            got = b.execute(select(table).order_by(*order)).all()
        if want != got:
            diff = next(((w, g) for w, g in zip(want, got, strict=False) if w != g), None)
            raise SystemExit(
                f"builder check FAILED: table {table.name} differs from what the importer writes "
                f"({len(want)} rows imported, {len(got)} built); first difference:"
                f"\n  importer: {diff and diff[0]}"
                f"\n  builder:  {diff and diff[1]}"
                "\nbench/benchkit.py must follow the importer."
            )
        compared += len(want)
    real.dispose()
    built.dispose()
    return f"{compared:,} rows in {len(Base.metadata.sorted_tables)} tables identical"


# -- timing -------------------------------------------------------------------------------------------------


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


def percentile(values: Sequence[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


# -- where the time goes ----------------------------------------------------------------------------------


class Stopwatch:
    """Splits each call's wall time between the SQL statements it runs, as seen from Python.

    A statement's share runs from its execution to the next statement (or COMMIT): the driver's work,
    fetching its rows and the ORM building objects from them. "COMMIT" runs to the end of the call.
    """

    def __init__(self, database: Database) -> None:
        self.engine = database.engine
        self.spent: dict[str, list[float]] = defaultdict(list)
        self.current: str | None = None
        self.since = 0.0

    def mark(self, label: str | None) -> None:
        now = time.perf_counter()
        if self.current is not None:
            self.spent[self.current].append((now - self.since) * 1000)
        self.current, self.since = label, now

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        label = " ".join(statement.split())
        self.mark(re.sub(r"^SELECT (.{60}).*? FROM ", r"SELECT \1… FROM ", label))

    def _commit(self, _conn: Any) -> None:
        self.mark("COMMIT")

    def __enter__(self) -> Stopwatch:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)

    def time(self, run: Callable[[], float]) -> float:
        self.current = None
        started = time.perf_counter()
        self.mark("(before the first statement)")
        run()
        self.mark(None)
        return (time.perf_counter() - started) * 1000


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A fresh schema in the given PostgreSQL database, dropped afterwards; nothing else is touched."""
    schema = f"edibot_bench_{os.getpid()}_{random.randrange(1 << 30):x}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield admin.url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def built_store(url: str, world: World, *, analyze: bool) -> Database:
    """A database at `url` holding `world`, as the importer would have written it; ANALYZEd when asked."""
    database = Database.open(url)
    build(database, world)
    if analyze:
        with database.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return database


def postgres_from_environment() -> str:
    """EDIBOT_BENCH_POSTGRES_URL, or "" after saying that PostgreSQL is skipped."""
    postgres = os.environ.get("EDIBOT_BENCH_POSTGRES_URL", "")
    if not postgres:
        print(
            "-- PostgreSQL SKIPPED: EDIBOT_BENCH_POSTGRES_URL is not set "
            "(e.g. postgresql+psycopg://edibot:edibot@127.0.0.1:5432/edibot_test; a throwaway schema is used)"
        )
    return postgres


def postgres_label(url: str) -> str:
    return f"PostgreSQL {make_url(url).host}/{make_url(url).database} (throwaway schema, ANALYZEd)"


def print_profile(profiler: cProfile.Profile, *, top: int) -> None:
    """cProfile's `top` functions by cumulative time, indented under the figures."""
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    print("\n".join("     " + line for line in out.getvalue().splitlines()[6:] if line.strip()))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
