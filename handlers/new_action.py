"""Adding an action to a plan from chat: `/edi add`, or a plan admin turning a message into an action."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from handlers.cards import action_card, unusable, why_unreadable
from handlers.changes import apply_deadline, refuse_long_deadline, refuse_long_owner_name
from handlers.controls import FormMeaning, Invocation
from handlers.core import CommandSpec, Request
from handlers.errors import CommandError
from handlers.messages import Choice, Context, Form, FormField, Reply, Text
from storage.models import Action, Plan
from storage.rules.bounds import DEADLINE_LIMIT, NOTE_LIMIT, OWNER_NAME_LIMIT, TITLE_LIMIT
from storage.rules.deadlines import interpret_deadline
from storage.rules.owners import split_owners

ADD_USAGE = 'add plan:"EDI Plan" owner:"HR Manager" due:"March 2026" TITLE'
_OPTION = re.compile(r"^(plan|owner|owners|due):(.*)$", re.IGNORECASE | re.DOTALL)


def new_action_form(
    plans: list[Plan],
    *,
    title: str = "",
    source: str = "",
    error: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Form:
    """The questions for a new action: which plan, what, who and by when; the message it came from as
    state."""
    errors = error or {}
    given = values or {}
    return Form(
        form_id="new_action",
        title="New EDI action",
        fields=(
            FormField(
                "plan",
                "Plan",
                choices=tuple(Choice(p.name, p.name) for p in plans[:100]),
                initial=given.get("plan") or (plans[0].name if len(plans) == 1 else ""),
                error=errors.get("plan"),
            ),
            FormField(
                "title",
                "Action",
                multiline=True,
                max_length=TITLE_LIMIT,
                initial=given.get("title", title[:TITLE_LIMIT]),
                error=errors.get("title"),
            ),
            FormField(
                "owner",
                "Owner (roles or teams, separated by /)",
                required=False,
                max_length=OWNER_NAME_LIMIT,
                initial=given.get("owner", ""),
                error=errors.get("owner"),
            ),
            FormField(
                "due",
                "Deadline, as you would write it (31/3/26, Q1 2026/27, Ongoing)",
                required=False,
                max_length=DEADLINE_LIMIT,
                initial=given.get("due", ""),
                error=errors.get("due"),
            ),
        ),
        state=source[:2000],
        submit_label="Add action",
    )


def _submit_new_action(state: str, values: Mapping[str, str]) -> Invocation:
    """The new-action form answered: the layer's "new_action" view, told the message it came from."""
    return Invocation("new_action", (state,), view=True, values=values)


# The form made here, by form id: what submitting it runs.
FORMS: dict[str, FormMeaning] = {"new_action": _submit_new_action}


def add_action(request: Request) -> Reply:
    """`/edi add plan:NAME owner:"HR Manager" due:"March 2026" Review recruitment adverts`."""
    return _add(request, request.words, source=None)


def add_action_from(request: Request, words: list[str], *, source: str) -> Reply:
    """An action added as `/edi add` words ask, noting where it came from (anonymous feedback)."""
    return _add(request, words, source=source)


def _add(request: Request, words: list[str], *, source: str | None) -> Reply:
    person = request.require_person()
    options: dict[str, str] = {}
    title_words: list[str] = []
    for word in words:
        match = _OPTION.match(word)
        if match and match.group(2).strip():
            options[match.group(1).lower().rstrip("s")] = match.group(2).strip()
        else:
            title_words.append(word)
    plan_name = options.get("plan")
    plans = list(request.store.plans())
    if plan_name is None and len(plans) == 1:
        plan_name = plans[0].name
    if not plan_name:
        names = ", ".join(p.name for p in plans) or "none yet — import one first"
        raise CommandError(f"Which plan? Usage: `/edi {ADD_USAGE}`. Plans: {names}.")
    plan = request.store.plan(plan_name)
    if plan is None:
        names = ", ".join(p.name for p in plans) or "none yet"
        raise CommandError(
            f"There is no plan called '{plan_name}'. Plans: {names}. I haven't added anything."
        )
    title = " ".join(title_words).strip()
    if not title:
        raise CommandError(f"What is the action? Usage: `/edi {ADD_USAGE}`. I haven't added anything.")
    if len(title) > TITLE_LIMIT:
        raise CommandError(
            f"That action is {len(title)} characters; keep it under {TITLE_LIMIT} and put detail in a note."
        )
    written = options.get("due", "")
    refuse_long_deadline(written, unchanged="anything")
    deadline = interpret_deadline(written, today=request.now.date())
    if written and unusable(deadline):
        raise CommandError(
            f"{why_unreadable(written, deadline)}. I haven't added anything. Try `31/3/26`, `March 2026`, "
            "`Q1 2026/27` or `Ongoing`."
        )
    owner_names = split_owners(options.get("owner", "")).owners
    for name in owner_names:
        refuse_long_owner_name(name)
    owners = [request.store.owner_or_new(name) for name in owner_names]
    ref = request.store.next_ref(plan)
    action = Action(
        plan=plan,
        ref=ref,
        match_key=f"chat:{ref}",
        position=request.store.next_position(plan),
        group_path=[],
        theme=None,
        title=title,
        raw_cells={},
        imported_fields={},
        source_location=f"added in chat by {person.name}",
        owners_text=options.get("owner"),
        warnings=list(deadline.warnings),
        status="done" if deadline.kind == "complete" else "open",
        created_at=request.now,
        updated_at=request.now,
        archived=False,
        owners=owners,
    )
    apply_deadline(action, written, deadline)
    request.store.add_action(action)
    request.action = action
    request.change(action, "created", None, title, note=f"from {source}" if source else None)
    reply = Reply([Text(f"Added {ref} to {plan.name}, added by {person.name}.")], private=False)
    reply.add(*action_card(action, request.now.date(), with_buttons=False))
    if not owners:
        reply.add(Context(f'It has no owner yet: `/edi owner {ref} add "HR Manager"`.'))
    return reply


def ask_for_new_action(request: Request) -> Reply:
    """The new-action form, its title taken from the message it comes from (words: text, where it came
    from)."""
    text, source = [*request.words, "", ""][:2]
    plans = list(request.store.plans())
    if not plans:
        raise CommandError("There are no plans yet to add an action to: import one first (`edibot import`).")
    return Reply([new_action_form(plans, title=text.strip(), source=source)])


def submit_new_action(request: Request) -> Reply:
    """A filled-in new-action form: added, or sent back with what to fix on each field (and what was
    typed)."""
    values = request.form_values
    source = request.words[0] if request.words else ""
    words, errors = submitted_words(values, today=request.now.date())
    if errors:
        plans = list(request.store.plans())
        return Reply([new_action_form(plans, source=source, error=errors, values=values)])
    return _add(request, words, source=source or None)


def submitted_words(values: dict[str, str], *, today: date) -> tuple[list[str], dict[str, str]]:
    """A filled-in new-action form as `add` arguments, or the errors to show on its fields."""
    errors: dict[str, str] = {}
    title = (values.get("title") or "").strip()
    if not title:
        errors["title"] = "Say what the action is."
    elif len(title) > TITLE_LIMIT:
        errors["title"] = f"Keep it under {TITLE_LIMIT} characters."
    if not (values.get("plan") or "").strip():
        errors["plan"] = "Choose the plan it belongs to."
    owner = (values.get("owner") or "").strip()
    if len(owner) > NOTE_LIMIT:
        errors["owner"] = f"Keep it under {NOTE_LIMIT} characters."
    due = (values.get("due") or "").strip()
    if due and unusable(interpret_deadline(due, today=today)):
        errors["due"] = f"'{due[:60]}' is not a deadline I understand: try 31/3/26, March 2026 or Ongoing."
    words = [f"plan:{values.get('plan', '').strip()}", title]
    if owner:
        words.append(f"owner:{owner}")
    if due:
        words.append(f"due:{due}")
    return words, errors


# Adding an action by typing it (the message-to-action form is one of the registry's views).
COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("add", ADD_USAGE, "add an action to a plan", add_action, admin_only=True),
)
