"""The plan admins' `/edi` commands about people: who owns an action, which person answers for an owner role,
and who the plan admins are."""

from __future__ import annotations

from handlers.changes import refuse_long_owner_name
from handlers.core import CommandSpec, Request
from handlers.errors import CommandError
from handlers.messages import Context, Heading, Reply, Text
from storage.models import Person
from storage.rules.owners import list_owners


def owner(request: Request) -> Reply:
    action = request.require_action()
    if len(request.words) < 3 or request.words[1].lower() not in ("add", "remove"):
        raise CommandError(f'Usage: `/edi owner {action.ref} add|remove "Owner name"`')
    verb, name = request.words[1].lower(), " ".join(request.words[2:]).strip()
    if not name.strip(" \"'“”‘’"):
        raise CommandError(
            f'Name the owner: `/edi owner {action.ref} {verb} "HR Manager"`. I haven\'t changed anything.'
        )
    before = list_owners((o.name for o in action.owners), none="")
    if verb == "add":
        refuse_long_owner_name(name)
        role = request.store.owner_or_new(name)
        if role in action.owners:
            return Reply.say(f"{role.name} already owns {action.ref}.")
        action.owners.append(role)
    else:
        role_found = request.store.owner_named(name)
        if role_found is None or role_found not in action.owners:
            raise CommandError(f"{name} doesn't own {action.ref}; its owners are {before or 'nobody'}.")
        action.owners.remove(role_found)
    after = list_owners((o.name for o in action.owners), none="")
    request.change(action, "owners", before, after)
    request.store.forget_declines(action)  # new owners: anyone who said "not mine" is asked afresh
    return Reply.say(f"{action.ref} is now owned by {after or 'nobody'}.")


def people(request: Request) -> Reply:
    words = request.words
    sub = words[0].lower() if words else ""
    if sub == "unmapped":
        rows = request.store.unmapped_owners()
        if not rows:
            return Reply.say("Every owner on an open action is mapped to someone.")
        lines = [f"{owner.name} — {count} open action{'s' if count != 1 else ''}" for owner, count in rows]
        return Reply(
            [
                Heading(f"{len(rows)} owner roles with nobody to remind"),
                Text("\n".join(lines)),
                Context('Map one with `/edi people map "HR Manager" @someone`.'),
            ]
        )
    if sub == "map" and len(words) >= 3:
        role_name, mention = words[1], " ".join(words[2:])
        person = person_mentioned(request, mention)
        role = request.store.owner_named(role_name)
        if role is None:
            near = ", ".join(o.name for o in request.store.owners_like(role_name)) or "none like it"
            raise CommandError(f"No plan has an owner called '{role_name}'. Similar: {near}.")
        again = request.store.forget_declines_in_role(person, role)
        back = (
            f" They had said {', '.join(again)} {'is' if len(again) == 1 else 'are'} not theirs; reminders "
            f"about {'it' if len(again) == 1 else 'them'} start again."
            if again
            else ""
        )
        if role in person.roles:
            return Reply.say(f"{person.name} is already mapped to {role.name}.{back}")
        person.roles.append(role)
        request.store.renudge_role(role)
        return Reply.say(f"{person.name} now gets {role.name}'s actions.{back}")
    raise CommandError('Usage: `/edi people map "HR Manager" @someone` or `/edi people unmapped`.')


def person_mentioned(request: Request, mention: str) -> Person:
    """The person a mention ("@Amina Khan", a platform mention) names, who must be in the people directory."""
    person = request.store.person_mentioned(mention)
    if person is None:
        raise CommandError(
            f"I don't know {mention} — add them to the people directory first "
            "(edibot people import people.csv)."
        )
    return person


def admins(request: Request) -> Reply:
    words = request.words
    if len(words) < 2 or words[0].lower() not in ("add", "remove"):
        raise CommandError("Usage: `/edi admins add @someone` or `/edi admins remove @someone`.")
    person = person_mentioned(request, " ".join(words[1:]))
    if words[0].lower() == "add":
        if person.is_admin:
            return Reply.say(f"{person.name} is already a plan admin.")
        person.is_admin = True
        return Reply.say(f"{person.name} is now a plan admin.")
    if not person.is_admin:
        return Reply.say(f"{person.name} isn't a plan admin.")
    if len(request.store.admins()) == 1:
        raise CommandError(f"{person.name} is the last plan admin; add another before removing them.")
    person.is_admin = False
    return Reply.say(f"{person.name} is no longer a plan admin.")


# The plan admins' commands about people, in the order help lists them.
COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "owner",
        'owner REF add|remove "Owner"',
        "change who owns an action",
        owner,
        about_action=True,
        changes_action=True,
        admin_only=True,
    ),
    CommandSpec(
        "people",
        'people map "HR Manager" @someone | people unmapped',
        "map owner roles to people; list roles nobody is mapped to",
        people,
        admin_only=True,
    ),
    CommandSpec("admins", "admins add|remove @someone", "choose the plan admins", admins, admin_only=True),
)
