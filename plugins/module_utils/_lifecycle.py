# -*- coding: utf-8 -*-
# Copyright (c) identity.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY: this file may change without notice.

"""What every user module and info module of the collection does, written once.

A provider contributes a `UserDirectory` subclass that knows its API (lookups, delete, enable,
disable, the user attributes). This file turns it into an Ansible module: options and their
environment fallbacks, input validation, lookups by id or name, the rule that a user who is
not found is already absent, check mode, diff, concurrency, per-user results in input order,
and failing at the end with the names of the users that failed.
"""

from __future__ import annotations

import os
import threading
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.errors import AnsibleFallbackNotFound

from ._batch import RateLimiter, run_concurrently
from ._http import (
    HAS_REQUESTS,
    MAX_VALUE_LENGTH,
    REQUESTS_IMPORT_ERROR,
    HttpTransport,
    InputError,
    NotFoundError,
    ProviderError,
    Redactor,
    has_control_characters,
)

STATES = ("absent", "disabled", "enabled")
MAX_PARALLELISM = 64


def env(*names):
    """An argument-spec fallback to the first of these environment variables that is set and not empty."""
    return (non_empty_env_fallback, list(names))


def non_empty_env_fallback(*names):
    # An empty variable counts as unset, so that the option's default applies: an AWX credential
    # injects every optional input left empty as an empty variable.
    for name in names:
        if os.environ.get(name, "").strip():
            return os.environ[name]
    raise AnsibleFallbackNotFound


def common_options():
    return dict(
        timeout=dict(type="float", default=30.0),
        retries=dict(type="int", default=5),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        parallelism=dict(type="int", default=8),
        rate_limit=dict(type="float"),
        deadline=dict(type="float"),
    )


def user_options(directory_cls=None):
    directory_cls = directory_cls or UserDirectory
    options = info_options(directory_cls)
    options["state"] = dict(type="str", required=True, choices=list(directory_cls.state_roles))
    options["approved_actions"] = dict(type="dict")
    return options


def info_options(directory_cls=None):
    directory_cls = directory_cls or UserDirectory
    return {directory_cls.id_option: dict(type="list", elements="str"),
            directory_cls.name_option: dict(type="list", elements="str")}


class Step:
    """One changing call: `description` is what the user reads in `actions`. A step that removes access
    beyond the directory user (a token, a provisioned account, a tenant user) carries `leftover`, a dict
    with `kind`, `id`, `name`, `where` and `done` (what the step does, in the past tense), which the
    user's result lists under `leftover` once the step is done (in check mode, once it is planned)."""

    def __init__(self, description, call, leftover=None):
        self.description = description
        self.call = call
        self.leftover = leftover


# What a step returns when what it removes was already gone (someone else removed it; not this run's own earlier
# attempt whose answer was lost): not done by this task, so neither an action nor a leftover item of it.
ALREADY_GONE = object()
# How a message about a user already absent starts (callers, the offboard role among them, tell it by this prefix).
ALREADY_ABSENT = "already absent"


def leftover_item(kind, done, id=None, name=None, where=None):  # pylint: disable=redefined-builtin
    """A `leftover` entry: the same keys always, so that reports can be built from it without guessing."""
    return {"kind": kind, "id": id, "name": name, "where": where, "done": done}


def leftover_of(step):
    """The `leftover` entry of a step, with `action`: the step's entry in `actions`, which names it in an
    approval (approved_actions)."""
    return dict(step.leftover, action=step.description)


def follow_up_item(kind, detail, where=None):
    """A `manual_follow_up` entry: access this task found and no API call of it removed."""
    return {"kind": kind, "where": where, "detail": detail}


class Entry:
    """One requested user and what happened to them."""

    def __init__(self, key, by):
        self.key = key
        self.by = by  # "id" or "name"
        self.user = None
        self.found = False
        self.changed = False
        self.state = None
        self.actions = []
        self.leftover = []  # Step.leftover of every step done
        self.follow_up = []  # follow_up_item()s: what remains and needs a person
        self.request_ids = []
        self.msg = ""
        self.error = None
        self.steps = []
        self.same_as = None
        # Set when a changing request for this user may have been carried out although its answer
        # was lost: {"message": ..., "request_id": ...} (see ProviderError.lost_answer).
        self.lost_answer = None
        self.confirmed_after_retry = False
        # A user given by id and deleted without being read first: `user` knows only the id, and
        # `found` is proven by the delete itself.
        self.unread = False

    @property
    def failed(self):
        return self.error is not None

    def done(self, step, request_id):
        """`step` was carried out by this task."""
        self.changed = True
        self.actions.append(step.description)
        if step.leftover:
            self.leftover.append(leftover_of(step))
        record_request_id(self, request_id)

    def fail(self, error, msg=None):
        self.error = error
        self.msg = msg or str(error)
        lost = getattr(error, "lost_answer", None) or self.lost_answer
        if lost:
            self.lost_answer = lost
            self.msg += (" (an earlier attempt may have been carried out although its answer was lost, so the "
                         "change may already be made; run the task again to confirm)")


def confirm_gone(entry, description, lost_answer):
    """A change whose earlier attempt may have been carried out, and whose retry found the user gone:
    this run did it, and says how it knows."""
    entry.changed = True
    entry.state = "absent"
    entry.actions.append(description)
    entry.confirmed_after_retry = True
    record_request_id(entry, lost_answer.get("request_id"))
    if entry.unread:
        # Nothing read the user before the delete, so nothing tells whether it existed: say so, and
        # report it as a change rather than hide a deletion this task may have made.
        entry.found = None
        entry.msg = ("deleted or already absent (the first answer was lost (%s) and the retry found no user; the "
                     "user was not read before the delete, so which of the two cannot be told)"
                     % lost_answer.get("message", "no answer"))
        return
    entry.msg = ("deleted (confirmed after a retry: the first answer was lost (%s) and the retry found the user gone)"
                 % lost_answer.get("message", "no answer"))


class UserDirectory:
    """A provider's users, as the generic module logic sees them. Subclasses fill in the API."""

    provider = "provider"
    default_rate_limit = None
    window_quotas = None
    # Options (beyond the common ones) that name a secret or a connection detail.
    secret_options = ()
    # A rate the provider documents (requests per second): the default cap is this less the burst that
    # may go at once (`parallelism`, but at most a tenth of the rate), so that no second ever sees more
    # than the documented rate and a high `parallelism` does not lower the pace.
    documented_rate = None
    DOCUMENTED_BURST_SHARE = 0.1
    # Whether a delete by id answers "not found" for a user that does not exist, so that a user given by
    # id can be deleted with one request, without reading it first.
    deletes_by_id = False
    # The public names of the user options and states, for a module with its own words (atlassian_account:
    # account_id, email; deactivated, removed, active). The engine decides by each state's role.
    id_option = "user_id"
    name_option = "user_name"
    state_roles = {"absent": "absent", "disabled": "disabled", "enabled": "enabled"}

    def __init__(self, module):
        self.module = module
        params = module.params
        self.check_mode = module.check_mode
        self.parallelism = params["parallelism"]
        self.redact = Redactor(params.get(option) for option in self.secret_options)
        rate = params["rate_limit"] if params["rate_limit"] is not None else self.default_rate_limit
        burst = max(1, self.parallelism)
        if params["rate_limit"] is None and self.documented_rate is not None:
            burst = max(1, min(burst, int(self.documented_rate * self.DOCUMENTED_BURST_SHARE)))
            rate = max(1.0, self.documented_rate - burst)
        # An explicit rate_limit is the user's choice of pace; otherwise the pace adapts to refusals.
        self.limiter = RateLimiter(rate=rate, burst=burst,
                                   window_quotas=self.window_quotas, adaptive=params["rate_limit"] is None)
        # One deadline for the whole task, shared by every transport it opens.
        self.deadline = time.monotonic() + params["deadline"] if params.get("deadline") else None
        self.transport = None
        self._proven = None
        self._proof_lock = threading.Lock()

    # --- set-up a subclass adapts -------------------------------------------------------------
    @classmethod
    def connection_options(cls):
        """The provider's own options (with environment fallbacks)."""
        return {}

    @classmethod
    def module_kwargs(cls):
        """Extra AnsibleModule arguments such as required_together."""
        return {}

    @classmethod
    def extra_user_options(cls):
        """Options only the provider's user module has (Alibaba: force)."""
        return {}

    @classmethod
    def extra_info_options(cls):
        """Options only the provider's info module has (Alibaba: include_dependencies)."""
        return {}

    def validate(self):
        """Check option values before any request; raise InputError naming the option."""

    def make_transport(self, parse_error, auth=None, headers=None):
        params = self.module.params
        self.transport = HttpTransport(
            self.provider, parse_error, timeout=params["timeout"], retries=params["retries"],
            validate_certs=params["validate_certs"], ca_path=params["ca_path"],
            pool_size=self.parallelism, limiter=self.limiter, redactor=self.redact, auth=auth,
            headers=headers, deadline=self.deadline, warn=self.module.warn)
        return self.transport

    def add_secret(self, value):
        """A secret learned at run time (a token): never shown, by us or by Ansible."""
        if value:
            self.redact.add(value)
            self.module.no_log_values.add(value)

    def preflight(self):
        """One cheap request proving the credentials and the directory before anything else,
        so that a wrong directory never makes every user look "already absent"."""

    def prove_directory(self):
        """The preflight, run once, when a delete without a read first answered "not found": only a proven
        directory makes that answer mean "already absent". Raises the preflight's error every time."""
        with self._proof_lock:
            if self._proven is None:
                try:
                    self.preflight()
                    self._proven = True
                except ProviderError as exc:
                    self._proven = exc
        if self._proven is not True:
            raise self._proven

    def reads_before_delete(self):
        """Whether users given by id are read before they are deleted. They are where the provider's delete
        cannot tell "absent", in check mode and diff mode (which show what would change), and for a one-user
        task (which returns the user object); providers add their own reasons (Alibaba: force)."""
        params = self.module.params
        return (not self.deletes_by_id or self.check_mode or bool(getattr(self.module, "_diff", False))
                or len(set(params.get(self.id_option) or ())) < 2)

    def user_stub(self, user_id):
        """A user object that knows only its id, for a delete without a read first."""
        raise NotImplementedError

    # --- lookups ------------------------------------------------------------------------------
    def validate_user_id(self, user_id):
        """Raise InputError for an id this provider can never have."""

    def get_user(self, user_id):
        """The user with this id; raise NotFoundError when there is none."""
        raise NotImplementedError

    def find_users(self, user_name):
        """Every user whose name matches exactly (provider rules); an empty list when none."""
        raise NotImplementedError

    def list_users(self):
        """Every user of the directory, paged to the end."""
        raise NotImplementedError

    def lookup_ids(self, user_ids):
        """{user_id: user or None}. Providers with a cheaper bulk read override this."""
        outcomes = self.run(user_ids, self._get_or_none)
        return self._collect(outcomes)

    def lookup_names(self, user_names):
        """{user_name: [users]}. Providers with a cheaper bulk read override this."""
        outcomes = self.run(user_names, self.find_users)
        return self._collect(outcomes)

    def _get_or_none(self, user_id):
        try:
            return self.get_user(user_id)
        except NotFoundError:
            return None

    @staticmethod
    def _collect(outcomes):
        result = {}
        for outcome in outcomes:
            result[outcome.item] = outcome.error if outcome.error is not None else outcome.value
        return result

    # --- attributes ---------------------------------------------------------------------------
    def user_id_of(self, user):
        raise NotImplementedError

    def user_name_of(self, user):
        raise NotImplementedError

    def is_enabled(self, user):
        raise NotImplementedError

    def describe(self, user):
        """The key attributes shown in diff mode (never a secret)."""
        return {"user_id": self.user_id_of(user), "user_name": self.user_name_of(user),
                "state": "enabled" if self.is_enabled(user) else "disabled"}

    def state_of(self, user):
        """The user's state before the task, in the module's words."""
        return "enabled" if self.is_enabled(user) else "disabled"

    def describe_after(self, user, state):
        """The diff's `after` for a user brought to `state` (not absent)."""
        return dict(self.describe(user), state=state)

    def result_fields(self, entry):
        """Provider keys added to a user's result (none by default)."""
        return {}

    # --- changes ------------------------------------------------------------------------------
    def plan_change(self, entry, role):
        """The steps that bring a found user to the state with this role (absent, disabled, enabled)."""
        enabled = self.is_enabled(entry.user)
        if role == "absent":
            return self.plan_delete(entry)
        if role == "disabled" and enabled:
            return [Step("disabled", lambda user=entry.user: self.set_enabled(user, False))]
        if role == "enabled" and not enabled:
            return [Step("enabled", lambda user=entry.user: self.set_enabled(user, True))]
        return []

    def plan_delete(self, entry):
        """The steps that bring this user to absent (reads allowed, no change)."""
        return [Step("deleted", lambda: self.delete_user(entry.user))]

    def plan_absent(self, entry):
        """The steps that remove what a user who is already absent left behind (reads allowed, no change);
        none by default. A provider that plans some sets `entry.msg` to what the user reads once they are
        done (or, in check mode, would be): the user stays `found: false` and counts as changed."""
        return []

    def delete_user(self, user):
        """Delete; return a request id or None. NotFoundError means someone else was faster."""
        raise NotImplementedError

    def set_enabled(self, user, enabled):
        """Enable or disable; return a request id or None."""
        raise NotImplementedError

    def apply(self, entries):
        """Run the planned steps of every entry; providers with bulk calls override this."""
        fail_unfinished(self.run(entries, self.run_steps))

    def run_steps(self, entry):
        role = self.state_roles[self.module.params["state"]]
        for step in entry.steps:
            try:
                request_id = step.call()
            except NotFoundError as exc:
                lost = exc.lost_answer or entry.lost_answer
                if entry.unread:
                    # Deleted without a read first: "not found" means absent only in a proven directory.
                    try:
                        self.prove_directory()
                    except ProviderError as proof_error:
                        entry.fail(proof_error)
                        return
                    entry.found = False
                    entry.user = None
                if lost and role == "absent" and step is entry.steps[-1]:
                    # Our delete may have been carried out; only its answer was lost.
                    confirm_gone(entry, step.description, lost)
                    return
                # The user vanished between our lookup and this call: already absent.
                entry.state = "absent"
                if role == "enabled":
                    entry.fail("not found", "user no longer exists; it cannot be %s" % self.module.params["state"])
                elif entry.changed:
                    # Earlier steps were this task's, the user's removal was not: never reported as "deleted".
                    entry.msg = ("%s (the user itself was gone when this task's %r came, so it was not deleted by this "
                                 "task; before that, this task did: %s)"
                                 % (ALREADY_ABSENT, step.description, "; ".join(entry.actions)))
                else:
                    entry.msg = ALREADY_ABSENT
                return
            except ProviderError as exc:
                entry.fail(exc)
                return
            if request_id is not ALREADY_GONE:
                entry.done(step, request_id)

    def run(self, items, function):
        """`function` over the items, concurrently; an exception we did not foresee becomes a redacted
        ProviderError of its item, so that it can never pass unnoticed or show a secret."""
        outcomes = run_concurrently(items, function, self.parallelism)
        for outcome in outcomes:
            if outcome.error is not None and not isinstance(outcome.error, (ProviderError, InputError)):
                outcome.error = ProviderError(self.provider, self.redact("unexpected error: %s: %s" % (
                    outcome.error.__class__.__name__, outcome.error)))
        return outcomes

    def decorate_info(self, users):
        """The info module's users, completed by the provider (reads only); by default unchanged."""
        return users

    def close(self):
        if self.transport is not None:
            self.transport.session.close()


def fail_unfinished(outcomes):
    """Entries (or lists of entries, for bulk calls) whose work raised fail with that error: nothing that
    went wrong may end as "already absent"."""
    for outcome in outcomes:
        if outcome.error is None:
            continue
        entries = outcome.item if isinstance(outcome.item, (list, tuple)) else [outcome.item]
        for entry in entries:
            if isinstance(entry, Entry) and not entry.failed:
                entry.fail(outcome.error)


def record_request_id(entry, request_id):
    if isinstance(request_id, (list, tuple)):
        for one in request_id:
            record_request_id(entry, one)
    elif request_id:
        entry.request_ids.append(request_id)


def build_module(directory_cls, options, required_one_of=None):
    spec = {}
    spec.update(directory_cls.connection_options())
    spec.update(common_options())
    spec.update(options)
    kwargs = directory_cls.module_kwargs()
    mutually_exclusive = list(kwargs.pop("mutually_exclusive", [])) + [
        (directory_cls.id_option, directory_cls.name_option)]
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True,
                           mutually_exclusive=mutually_exclusive,
                           required_one_of=required_one_of, **kwargs)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    return module


def validate_common(params, options=("user_id", "user_name")):
    if params["timeout"] <= 0:
        raise InputError("timeout must be greater than 0")
    if params["retries"] < 0:
        raise InputError("retries must be 0 or more")
    if not 1 <= params["parallelism"] <= MAX_PARALLELISM:
        raise InputError("parallelism must be between 1 and %d" % MAX_PARALLELISM)
    if params["rate_limit"] is not None and params["rate_limit"] <= 0:
        raise InputError("rate_limit must be greater than 0")
    if params.get("deadline") is not None and params["deadline"] <= 0:
        raise InputError("deadline must be greater than 0 (seconds for the whole task)")
    for option in options:
        if params.get(option) is not None:
            params[option] = [checked_identifier(value, option) for value in params[option]]


def checked_identifier(value, option):
    """A user id or name without surrounding whitespace (the offboard role strips the same input),
    refused when it is empty, too long, or carries control characters, which no provider's ids or
    names contain and which could only make a request address something else."""
    text = "" if value is None else str(value).strip()
    if not text:
        raise InputError("%s must not contain empty values" % option)
    if has_control_characters(text):
        raise InputError("%s %s contains control characters (such as a newline)" % (option, ascii(text[:80])))
    if len(text) > MAX_VALUE_LENGTH:
        raise InputError("%s %s... is %d characters long; at most %d are accepted"
                         % (option, ascii(text[:40]), len(text), MAX_VALUE_LENGTH))
    return text


def validate_connection(params, directory_cls):
    """Connection values with control characters are refused, a secret without showing it: a trailing
    newline (as `echo key | ansible-vault encrypt_string` leaves) would otherwise end in a header."""
    for option, spec in sorted(directory_cls.connection_options().items()):
        value = params.get(option)
        if spec.get("type", "str") != "str" or value is None or not has_control_characters(value):
            continue
        if spec.get("no_log"):
            raise InputError("%s contains a control character (often a trailing newline, as `echo` adds before "
                             "ansible-vault encrypt_string; use `echo -n` or printf); the value is not shown" % option)
        raise InputError("%s %s contains a control character (often a trailing newline)" % (option, ascii(value[:80])))


def validate_approved_actions(params, id_option, name_option):
    """`approved_actions` (given by the offboard role in a run bound to an approved plan): a dict of every
    requested user, as given, to the list of actions approved for it."""
    approved = params.get("approved_actions")
    if approved is None:
        return
    checked = {}
    for key, actions in approved.items():
        if not isinstance(actions, list) or not all(isinstance(action, str) for action in actions):
            raise InputError("approved_actions[%s] must be a list of actions (strings)" % ascii(str(key)[:80]))
        checked[str(key).strip()] = list(actions)
    requested = params.get(id_option) if params.get(id_option) is not None else params.get(name_option)
    missing = [key for key in requested or [] if key not in checked]
    if missing:
        raise InputError("approved_actions has no entry for %s; every user given must have one (its approved "
                         "actions, or an empty list)" % ", ".join(ascii(key[:80]) for key in missing[:5]))
    params["approved_actions"] = checked


def open_directory(module, directory_cls):
    """Validate everything, then build the directory client; fail the task on bad input."""
    try:
        validate_common(module.params, (directory_cls.id_option, directory_cls.name_option))
        validate_approved_actions(module.params, directory_cls.id_option, directory_cls.name_option)
        validate_connection(module.params, directory_cls)
        directory = directory_cls(module)
        directory.validate()
        for user_id in module.params.get(directory_cls.id_option) or []:
            directory.validate_user_id(user_id)
    except InputError as exc:
        module.fail_json(msg=str(exc))
    return directory


def requested_entries(params, id_option="user_id", name_option="user_name"):
    """One Entry per distinct requested user, and the input order as a list of entries."""
    by = "id" if params.get(id_option) is not None else "name"
    keys = params.get(id_option) if by == "id" else params.get(name_option)
    entries = {}
    order = []
    for key in keys or []:
        entry = entries.setdefault(key, Entry(key, by))
        order.append(entry)
    return list(entries.values()), order


def skips_reads(directory, entries, state):
    """Whether this task deletes users given by id with one request each, reading none of them first."""
    return (bool(entries) and directory.state_roles[state] == "absent" and entries[0].by == "id"
            and not directory.reads_before_delete())


def resolve(directory, entries, unread=False):
    """Find each entry's user; ambiguity and lookup errors fail only that entry. With `unread`, each
    user given by id is taken as found, to be proven by its delete."""
    if not entries:
        return
    if unread:
        for entry in entries:
            entry.user = directory.user_stub(entry.key)
            entry.found = True
            entry.unread = True
        return
    keys = [entry.key for entry in entries]
    if entries[0].by == "id":
        found = directory.lookup_ids(keys)
    else:
        found = directory.lookup_names(keys)
    for entry in entries:
        value = found.get(entry.key)
        if isinstance(value, Exception):
            entry.fail(value)
            continue
        if entry.by == "name":
            if value and len(value) > 1:
                ids = ", ".join(str(directory.user_id_of(user)) for user in value)
                entry.fail("ambiguous", "%s %r matches %d users (%s); give %s instead"
                           % (directory.name_option, entry.key, len(value), ids, directory.id_option))
                continue
            value = value[0] if value else None
        entry.user = value
        entry.found = value is not None


NOT_APPROVED = "not approved"


def bind_to_approval(directory, entry, approved):
    """With `approved_actions`, a user's steps, worked out just now, must all be approved for it: a step that is
    not (the name now means another user, a token or membership appeared after the approved reads) fails the
    user before any of its requests. Fewer steps are fine: what is already done needs no doing."""
    if approved is None or not entry.steps:
        return True
    allowed = approved.get(entry.key) or []
    extra = [step.description for step in entry.steps if step.description not in allowed]
    if not extra:
        return True
    user = entry.user
    found = ("user %s (%s)" % (directory.user_id_of(user), directory.user_name_of(user) or "no user name")
             if user is not None else "the leftovers of absent user %s" % entry.key)
    entry.fail(ProviderError(directory.provider, "for %s %r, this task found %s and would now do: %s, which is not "
                             "approved (approved for it: %s); nothing was done for this user"
                             % (directory.id_option if entry.by == "id" else directory.name_option, entry.key, found,
                                "; ".join(extra), "; ".join(allowed) or "nothing"), code=NOT_APPROVED))
    entry.steps = []
    return False


def plan(directory, entries, state):
    """Decide per entry what must change; returns the entries that need a change."""
    role = directory.state_roles[state]
    approved = directory.module.params.get("approved_actions")
    seen = {}
    to_change = []
    for entry in entries:
        if entry.failed:
            continue
        if not entry.found:
            entry.state = "absent"
            if role == "enabled":
                entry.fail("not found", "user not found; a user that does not exist cannot be %s" % state)
                continue
            entry.msg = "already absent"
            if role == "absent":
                try:
                    entry.steps = directory.plan_absent(entry)
                except (ProviderError, InputError) as exc:
                    entry.fail(exc)
                    continue
                if entry.steps and bind_to_approval(directory, entry, approved):
                    to_change.append(entry)
            continue
        user_id = directory.user_id_of(entry.user)
        if user_id in seen:
            # Two requested names for one user: act once, report twice.
            entry.same_as = seen[user_id]
            continue
        seen[user_id] = entry
        entry.state = directory.state_of(entry.user)
        try:
            entry.steps = directory.plan_change(entry, role)
        except (ProviderError, InputError) as exc:
            entry.fail(exc)
            continue
        if not entry.steps:
            entry.msg = "already %s" % entry.state
        elif bind_to_approval(directory, entry, approved):
            to_change.append(entry)
    return to_change


def finish_entry(entry, state, check_mode):
    if entry.failed:
        if entry.unread:
            entry.found = None  # never read, and the delete did not tell
        return
    # Steps for a user who was already absent (plan_absent): the provider's message stays.
    swept = entry.found is False and not entry.unread
    if entry.steps and (entry.changed or check_mode):
        entry.state = state
        if check_mode:
            entry.changed = True
            entry.actions = [step.description for step in entry.steps]
            entry.leftover = [leftover_of(step) for step in entry.steps if step.leftover]
            if not swept:
                entry.msg = "would be " + ("deleted" if state == "absent" else state)
        elif not (entry.confirmed_after_retry or swept or entry.msg.startswith(ALREADY_ABSENT)):
            entry.msg = "deleted" if state == "absent" else state
        if swept and not entry.msg.startswith(ALREADY_ABSENT):
            # Callers (the offboard role) tell a sweep of an absent user from a deletion by this prefix.
            entry.msg = "%s; %s" % (ALREADY_ABSENT, entry.msg or "what it left behind was removed")
    elif entry.steps and not entry.msg:
        entry.msg = "already %s" % (entry.state or state)


def entry_result(directory, entry):
    source = entry.same_as or entry
    user = source.user
    result = {
        "user_id": directory.user_id_of(user) if user else (entry.key if entry.by == "id" else None),
        "user_name": directory.user_name_of(user) if user else (entry.key if entry.by == "name" else None),
        "found": source.found,
        "changed": source.changed,
        "state": source.state,
        "actions": list(source.actions),
        "leftover": [dict(item) for item in source.leftover],
        "manual_follow_up": [dict(item) for item in source.follow_up],
        "msg": source.msg if entry.same_as is None else "same user as %r: %s" % (source.key, source.msg),
    }
    result.update(directory.result_fields(source))
    if source.request_ids:
        result["request_ids"] = list(source.request_ids)
    if source.failed:
        result["failed"] = True
        error = source.error
        result["error"] = error.to_dict() if isinstance(error, ProviderError) else {"message": source.msg}
        result["msg"] = source.msg
    return result


def entry_diff(directory, entry, state):
    before = dict((key, value) for key, value in directory.describe(entry.user).items() if value is not None)
    if state == "absent":
        after = {"user_id": before.get("user_id"), "user_name": before.get("user_name"), "state": "absent"}
    else:
        after = dict((key, value) for key, value in directory.describe_after(entry.user, state).items()
                     if value is not None)
    label = (before.get("user_name") or before.get("user_id") or directory.user_name_of(entry.user)
             or directory.user_id_of(entry.user))
    return {"before_header": "%s user %s" % (directory.provider, label), "before": before,
            "after_header": "%s user %s" % (directory.provider, label), "after": after}


def retry_warning(directory):
    transport = directory.transport
    if transport is None or not transport.stats["retries"]:
        return None
    reasons = ", ".join("%s: %d" % item for item in sorted(transport.retry_reasons.items()))
    return "%s: %d of %d requests were retried (%s)" % (
        directory.provider, transport.stats["retries"], transport.stats["requests"], reasons)


def fail_unexpected(module, directory, exc):
    """Any exception we did not foresee fails the task with a redacted message and traceback, never with
    a raw traceback that could carry a secret (Ansible would show it as module_stderr)."""
    redact = directory.redact if directory is not None else Redactor()
    provider = directory.provider if directory is not None else "identity.lifecycle"
    module.fail_json(msg=redact("%s: unexpected error, nothing more was done: %s: %s"
                                % (provider, exc.__class__.__name__, exc)),
                     exception=redact(traceback.format_exc()))


def run_module(directory_cls, options, body, required_one_of=None):
    """Build the module, validate, open the directory and run `body(module, directory)`; whatever
    nobody foresaw fails the task redacted (fail_unexpected)."""
    module = build_module(directory_cls, options, required_one_of=required_one_of)
    directory = None
    try:
        directory = open_directory(module, directory_cls)
        body(module, directory)
    except Exception as exc:  # pylint: disable=broad-except
        fail_unexpected(module, directory, exc)


def run_user_module(directory_cls):
    """The whole of a user module (atlassian_scim_user, uipath_user, alibaba_cloudsso_user)."""
    options = user_options(directory_cls)
    options.update(directory_cls.extra_user_options())
    run_module(directory_cls, options, _run_user_module,
               required_one_of=[(directory_cls.id_option, directory_cls.name_option)])


def _run_user_module(module, directory):
    state = module.params["state"]
    entries, order = requested_entries(module.params, directory.id_option, directory.name_option)
    unread = skips_reads(directory, entries, state)
    try:
        # Deletes without reads prove the directory only if one answers "not found" (prove_directory):
        # a wrong key or directory fails every delete loudly on its own.
        if entries and not unread:
            directory.preflight()
    except ProviderError as exc:
        module.fail_json(msg=str(exc), error=exc.to_dict(), changed=False, users=[])
    resolve(directory, entries, unread=unread)
    to_change = plan(directory, entries, state)
    if to_change and not module.check_mode:
        directory.apply(to_change)
    for entry in entries:
        finish_entry(entry, state, module.check_mode)
    directory.close()

    users = [entry_result(directory, entry) for entry in order]
    changed = any(user["changed"] for user in users)
    result = dict(changed=changed, users=users)
    if len(order) == 1:
        result["user"] = (order[0].same_as or order[0]).user
    request_ids = [rid for entry in entries for rid in entry.request_ids]
    if request_ids:
        result["request_ids"] = request_ids
    if module._diff:
        result["diff"] = [entry_diff(directory, entry, state) for entry in entries
                          if entry.changed and entry.user is not None]
    warning = retry_warning(directory)
    if warning:
        module.warn(warning)
    failed = [user for user in users if user.get("failed")]
    counts = summarize(users, module.check_mode)
    if failed:
        names = ", ".join(str(user["user_name"] or user["user_id"]) for user in failed)
        result["msg"] = "%d of %d users failed (%s): %s. %s" % (
            len(failed), len(users), names, failed[0]["msg"], counts)
        module.fail_json(**result)
    result["msg"] = counts
    module.exit_json(**result)


def summarize(users, check_mode):
    counts = {}
    for user in users:
        msg = user["msg"]
        if msg.startswith("same user as "):
            msg = msg.split(": ", 1)[-1]
        # "deleted (confirmed after a retry: ...)" counts as "deleted".
        key = "failed" if user.get("failed") else msg.split(" (")[0].strip()
        counts[key] = counts.get(key, 0) + 1
    text = ", ".join("%s: %d" % item for item in sorted(counts.items())) or "no users requested"
    return ("check mode, " if check_mode else "") + text


def run_info_module(directory_cls):
    """The whole of an info module: users by id, by name, or all of them."""
    options = info_options(directory_cls)
    options.update(directory_cls.extra_info_options())
    run_module(directory_cls, options, _run_info_module)


def _run_info_module(module, directory):
    params = module.params
    try:
        directory.preflight()
        if params.get(directory.id_option) is not None:
            ids = unique(params[directory.id_option])
            found = directory.lookup_ids(ids)
            users = [found[key] for key in ids if found.get(key) is not None]
        elif params.get(directory.name_option) is not None:
            names = unique(params[directory.name_option])
            found = directory.lookup_names(names)
            users = []
            for name in names:
                value = found.get(name)
                # A failed lookup is an exception, raised below with the others.
                users.extend(value if isinstance(value, list) else [value] if value else [])
        else:
            users = list(directory.list_users())
        errors = [user for user in users if isinstance(user, Exception)]
        if errors:
            raise errors[0]
        users = directory.decorate_info(dedupe_users(directory, users))
    except ProviderError as exc:
        module.fail_json(msg=str(exc), error=exc.to_dict())
    finally:
        directory.close()
    result = dict(changed=False, users=dedupe_users(directory, users))
    warning = retry_warning(directory)
    if warning:
        module.warn(warning)
    module.exit_json(**result)


def unique(values):
    seen = set()
    return [value for value in values if not (value in seen or seen.add(value))]


def dedupe_users(directory, users):
    seen = set()
    result = []
    for user in users:
        key = directory.user_id_of(user)
        if key not in seen:
            seen.add(key)
            result.append(user)
    return result
