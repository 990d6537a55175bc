"""Owners of runs, sweeps and uploads (issue 31): with an access token (app/web/access.py), a run
belongs to whoever started it, and only they — or the holder of the admin token — may change it.

Who a request is (`requester`): an API client by its ``X-Client-Name`` header (``name:<it>``),
a browser by its client cookie (``backprop_client``, set with the session cookie:
``browser:<id>``), else whoever holds the token (``token``). A run remembers its creator
(``Run.creator``, the ``creator`` column). Anyone with access can watch, list, compare, export
and continue it (a continued run is the continuer's own); pausing, resuming, stepping, live
changes, stopping, renaming and deleting it are refused with 403 naming its owner. Each owner
may have `MAX_RUNS_PER_OWNER` runs queued, running or paused at once (429 with Retry-After past
it), so one student cannot fill the queue for the class. An uploaded CSV remembers its creator
too (the datasets table's ``creator``): anyone may list it and train on it, only its owner (or
the admin) delete it; each owner may keep `MAX_UPLOADS_PER_OWNER` uploads taking
`MAX_UPLOAD_BYTES_PER_OWNER` bytes as stored (429 with Retry-After past either, naming theirs to
delete), so one student cannot fill the server's upload store (MAX_STORED_UPLOADS, its bytes)
for the class. MNIST's four files are the server's task ``mnist``, every owner's: once it is
offered, replacing them is the admin's (403 otherwise). Without a token there are no owners and
no per-owner limit.

Owners are shown by the name they chose (``PUT /api/me {name}``; the runs page's "Your name"
field; app/storage/owner_names.py), else by their id (``browser 1a2b3c``, an X-Client-Name,
``token``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request

from app.config.wording import counted
from app.data.uploads import too_big
from app.storage.owner_names import NameTaken, OwnerNames, checked_name
from app.sweeps.api import CREATOR_KEY
from app.web.access import CLIENT_COOKIE, ENVIRON_KEY

MAX_NAME = 40  # characters of an X-Client-Name kept
MAX_RUNS_PER_OWNER = 8
MAX_UPLOADS_PER_OWNER = 10  # uploads one owner may keep (of the server's MAX_STORED_UPLOADS)
MAX_UPLOAD_BYTES_PER_OWNER = 32 * 2**20  # ... and their bytes as stored (of 256 MB in all)
RETRY_AFTER = 5  # seconds a client refused for too many runs or uploads is asked to wait
CLIENT_ID = re.compile(r"[0-9a-f]{32}")
# the routes that change a run (its id in the route's ``run_id``) or a sweep (``sweep_id``)
OWNER_ONLY = frozenset({
    "api.change_run", "api.pause_run", "api.resume_run", "api.stop_run", "api.step_run",
    "runs_api.delete_run", "runs_api.run_meta",
    "sweeps_api.stop_sweep", "sweeps_api.delete_sweep",
    "api.delete_dataset",  # an upload (``dataset_id``)
})  # fmt: skip


@dataclass(frozen=True)
class Requester:
    """Who sent the request: `owner` (the id runs remember) and whether it holds the admin
    token."""

    owner: str
    admin: bool


def owner_name(owner: str | None) -> str | None:
    """How an owner id is shown: the name it chose (`OwnerNames`), else the client's name,
    ``browser 1a2b3c`` or ``token``."""
    if owner is None:
        return None
    names = current_app.extensions.get("owner_names")
    chosen = None if names is None else names.name_of(owner)
    if chosen is not None:
        return chosen
    kind, _, value = owner.partition(":")
    return {"name": value, "browser": f"browser {value[:6]}"}.get(kind, kind)


def requester() -> Requester | None:
    """Who sent the current request; None when the server has no access token (no owners)."""
    level = request.environ.get(ENVIRON_KEY)
    if current_app.config.get("ACCESS_TOKEN") is None or level is None:
        return None
    name = "".join(c for c in request.headers.get("X-Client-Name", "") if c.isprintable())
    client = request.cookies.get(CLIENT_COOKIE, "")
    if name.strip():
        owner = f"name:{name.strip()[:MAX_NAME]}"
    elif CLIENT_ID.fullmatch(client):
        owner = f"browser:{client}"
    else:
        owner = "token"
    return Requester(owner, level == "admin")


def creator() -> str | None:
    """The owner a run started by the current request gets (None without a token)."""
    who = requester()
    return None if who is None else who.owner


def ownership(run: Any) -> dict[str, Any]:
    """``{owner, yours, mine}`` of `run` for the current request (``{}`` without a token): see
    `ownership_of`."""
    return ownership_of(run.creator)


def ownership_of(run_creator: str | None) -> dict[str, Any]:
    """``{owner, yours, mine}`` of a run created by `run_creator` (an owner id, None: no owner)
    for the current request (``{}`` without a token): its owner's name (None: no owner), whether
    this requester may change it (its owner, the admin, or nobody's run) and whether this
    requester created it (the runs page's "mine")."""
    who = requester()
    if who is None:
        return {}
    created = run_creator is not None and run_creator == who.owner
    yours = who.admin or run_creator is None or created
    return {"owner": owner_name(run_creator), "yours": yours, "mine": created}


AFTERWORDS = {
    "run": "; continue it (POST /api/runs/<id>/continue) to train your own copy",
    "upload": "; you can still train on it",
}


def refusal(item_creator: str | None, kind: str = "run") -> Any:
    """None if the current request may change an item (a run, sweep or upload: `kind`) created
    by `item_creator` (None: no owner), else the 403 answer naming its owner."""
    who = requester()
    if who is None or who.admin or item_creator is None or item_creator == who.owner:
        return None
    owner = owner_name(item_creator)
    message = f"this {kind} belongs to {owner}: only its owner (or the admin token) can change it"
    return jsonify(error=message + AFTERWORDS.get(kind, ""), owner=owner), 403


def listed_upload(entry: dict[str, Any]) -> dict[str, Any]:
    """An upload as `GET /api/datasets` lists it: its `creator` replaced by `ownership_of` it
    (a browser's id is its cookie: never shown)."""
    shown = {key: value for key, value in entry.items() if key != "creator"}
    return {**shown, **ownership_of(entry.get("creator"))}


def upload_limits() -> dict[str, int]:
    """``{max_count_per_owner, max_bytes_per_owner}`` of the uploads one owner may keep (``{}``
    without a token)."""
    if requester() is None:
        return {}
    config = current_app.config
    return {
        "max_count_per_owner": int(config.get("MAX_UPLOADS_PER_OWNER", MAX_UPLOADS_PER_OWNER)),
        "max_bytes_per_owner": int(
            config.get("MAX_UPLOAD_BYTES_PER_OWNER", MAX_UPLOAD_BYTES_PER_OWNER)
        ),
    }


def upload_refusal(kept: list[dict[str, Any]], n_bytes: int) -> Any:
    """None if the current requester may store one more upload of `n_bytes` beside `kept` (the
    uploads stored: `DatasetStore.listing`), else the 429 answer: past MAX_UPLOADS_PER_OWNER
    uploads or MAX_UPLOAD_BYTES_PER_OWNER bytes of theirs, naming theirs to delete. Without a
    token: None (no owners, no per-owner limit)."""
    who, limits = requester(), upload_limits()
    if who is None:
        return None
    most, most_bytes = limits["max_count_per_owner"], limits["max_bytes_per_owner"]
    theirs = [entry for entry in kept if entry.get("creator") == who.owner]
    held = sum(entry["bytes"] for entry in theirs)
    if len(theirs) >= most:
        why = f"you have {counted(len(theirs), 'upload')}, the most one owner may keep"
    elif held + n_bytes > most_bytes:
        why = f"your uploads would take {too_big(held + n_bytes, most_bytes)} with this file"
    else:
        return None
    names = ", ".join(f"{entry['name'] or 'upload'} ({entry['id']})" for entry in theirs[:5])
    message = (f"{why}: delete one of yours first (DELETE /api/datasets/<id>; yours, oldest "
               f"first: {names}{', …' if len(theirs) > 5 else ''})")  # fmt: skip
    if not theirs:  # a file bigger than one owner may keep at all
        message = f"{why}: the file is bigger than one owner's uploads may be"
    answer = jsonify(error=message, limit=most, limit_bytes=most_bytes)
    return answer, 429, {"Retry-After": str(RETRY_AFTER)}


def mnist_refusal() -> Any:
    """None if the current request may upload MNIST's files, else the 403 answer: once the task
    ``mnist`` is offered it is every owner's, and only the admin token replaces its files."""
    who = requester()
    if who is None or who.admin or "mnist" not in current_app.extensions.get("tasks", {}):
        return None
    message = ("the task mnist is offered already and is everyone's: only the admin token can "
               "replace its files")  # fmt: skip
    return jsonify(errors={"files": message}, owner="admin"), 403


me_api = Blueprint("me_api", __name__, url_prefix="/api")


@me_api.get("/me")
def who_am_i() -> Any:
    """``{owners: false}`` on a server without a token; else ``{owners: true, owner, name,
    admin}``: how the requester is shown, the name it chose (None: none) and whether it holds
    the admin token."""
    who = requester()
    if who is None:
        return jsonify(owners=False)
    names = current_app.extensions["owner_names"]
    return jsonify(owners=True, owner=owner_name(who.owner), name=names.name_of(who.owner),
                   admin=who.admin)  # fmt: skip


@me_api.put("/me")
def name_me() -> Any:
    """Choose the name the requester is shown by (body ``{name}``; null or "" clears it): 200
    as `who_am_i`; 400 ``{errors: {name}}`` for a bad or taken name; 409 without a token."""
    who = requester()
    if who is None:
        return jsonify(error="this server has no owners (it has no access token): there is "
                             "no name to choose"), 409  # fmt: skip
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "name" not in body:
        return jsonify(errors={"name": 'send {"name": "your name"} (null clears it)'}), 400
    try:
        current_app.extensions["owner_names"].set(who.owner, checked_name(body["name"]))
    except (ValueError, NameTaken) as error:
        return jsonify(errors={"name": str(error)}), 400
    return who_am_i()


ME_OPERATIONS = {
    "me_api.who_am_i GET": {
        "summary": "Who the requester is: {owners, owner, name, admin} ({owners: false} without "
                   "a token)",
        "responses": {"200": {"description": "the requester",
                              "content": {"application/json": {"schema": {"type": "object"}}}}},
    },
    "me_api.name_me PUT": {
        "summary": "Choose the name the requester's runs, sweeps and uploads are shown by",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["name"],
            "properties": {"name": {"type": ["string", "null"], "maxLength": 40}}}}}},
        "responses": {code: {"description": text, "content": {"application/json": {
            "schema": {"type": "object"}}}} for code, text in (
                ("200", "the requester"), ("400", "a bad or taken name"),
                ("409", "no owners on this server"), ("415", "not JSON"))},
    },
}  # fmt: skip


def install_owners(app: Flask) -> None:
    """Refuse changes to other owners' runs, sweeps and uploads (before the routes in
    `OWNER_ONLY`) and limit each owner's unfinished runs (``MAX_RUNS_PER_OWNER``; the upload
    route asks `upload_refusal` for uploads), when the app has an access token."""
    app.register_blueprint(me_api)
    app.extensions.setdefault("openapi_operations", {}).update(ME_OPERATIONS)
    if app.config.get("ACCESS_TOKEN") is None:
        return
    app.extensions["owner_names"] = OwnerNames(app.extensions.get("store"))
    manager = app.extensions["runs"]
    manager.max_runs_per_owner = int(app.config.get("MAX_RUNS_PER_OWNER", MAX_RUNS_PER_OWNER))

    # a running sweep counts as one run of its owner's (app/sweeps)
    manager.also_owned = lambda owner: app.extensions["sweeps"].store.running_of(owner)

    @app.before_request
    def owners_only() -> Any:
        request.environ[CREATOR_KEY] = creator()  # a new sweep's owner (app/sweeps/api.py)
        if request.endpoint == "api.upload_mnist":
            return mnist_refusal()
        if request.endpoint not in OWNER_ONLY or not request.view_args:
            return None
        if "sweep_id" in request.view_args:
            sweep = app.extensions["sweeps"].store.fresh(request.view_args["sweep_id"])
            return None if sweep is None else refusal(sweep.creator, "sweep")
        if "dataset_id" in request.view_args:  # read from storage: the same in every web process
            uploads = app.extensions["datasets"]
            return refusal(uploads.creator(request.view_args["dataset_id"]), "upload")
        run = manager.get(request.view_args.get("run_id"))
        return None if run is None else refusal(run.creator)  # an unknown run: the route's 404
