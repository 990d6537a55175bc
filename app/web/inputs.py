"""Any input gets a 4xx, never a 500 (issue 24, point 7): the guards every request passes.

* JSON bodies are read by `BoundedJSONProvider`: an integer literal of more than
  `MAX_INT_DIGITS` digits becomes the float it stands for (``inf`` past 1.8e308), so every number
  field refuses it by its declared limits, as it refuses ``1e400``, instead of overflowing
  (``OverflowError``) where it is compared with a float.
* Text that no store can hold (a NUL character, which PostgreSQL text refuses, or a lone UTF-16
  surrogate, which is not Unicode) is refused before any endpoint sees it: anywhere in a JSON
  body (400 ``{errors: {field: message}}``, the field being the top-level key it is under) and in
  the URL's path or query (400 ``{error}``).
* Every error answered under ``/api/`` is JSON ``{error}`` (Werkzeug's own are HTML pages): a
  413 says how much is allowed, and a form refused for its number of parts says so (not "too
  big"). The upload of ``/api/datasets`` keeps answering its 400 ``{errors: {file}}``.
* A database or Redis out of reach answers 503 ``{error}`` with ``Retry-After``, not a 500.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, jsonify, request
from flask.json.provider import DefaultJSONProvider
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DatabaseError, InterfaceError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.data.uploads import MAX_BYTES, _size, too_big
from app.outages import is_outage

log = logging.getLogger(__name__)

RETRY_AFTER = 5  # seconds a client is asked to wait out an outage
MAX_INT_DIGITS = 300  # floats hold up to ~1.8e308: longer integers cannot be compared with them
SKIPPED_BODIES = ("multipart/form-data", "application/x-www-form-urlencoded")


def bounded_int(text: str) -> int | float:
    """`json` ``parse_int``: the int of `text`, or its float (maybe ``inf``) when it has more than
    `MAX_INT_DIGITS` digits."""
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        return float(text)
    return int(text)


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON with integers bounded by `bounded_int` when reading, and a body nested too
    deeply for the parser a `ValueError` (a 400 of the endpoint, as any malformed body)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_int", bounded_int)
        try:
            return json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply") from None


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored (a NUL character, a lone surrogate), or None."""
    if "\x00" in text:
        return "contains a NUL character (not allowed in text)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (\\ud800-\\udfff): not valid Unicode text"
    return None


def bad_text(value: Any, depth: int = 0) -> str | None:
    """The `text_problem` of the first string in `value` (nested lists and dicts, keys too)."""
    if isinstance(value, str):
        return text_problem(value)
    if not isinstance(value, (dict, list)) or depth > 64:  # deeper: nothing stores it as text
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        problem = (isinstance(key, str) and text_problem(key)) or bad_text(item, depth + 1)
        if problem:
            return problem
    return None


def _shown(name: str) -> str:
    """`name` printable in an answer (a lone surrogate or a NUL written as an escape)."""
    return name.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\x00")


def _body_problem() -> tuple[str, str] | None:
    """(top-level field, problem) of a JSON body with text that cannot be stored, or None."""
    if request.method not in ("POST", "PUT", "PATCH") or not request.content_length:
        return None
    if request.mimetype in SKIPPED_BODIES:
        return None
    body = request.get_json(force=True, silent=True)  # cached: the endpoint reads it again
    if isinstance(body, dict):
        for name, value in body.items():
            if problem := text_problem(name) or bad_text(value):
                return _shown(name), problem
    elif problem := bad_text(body):
        return "body", problem
    return None


def _address_problem() -> tuple[str, str] | None:
    """("path" or the query field, problem) of a URL with text that cannot be used, or None."""
    if problem := text_problem(request.path):
        return "path", problem
    for key, value in request.args.items(multi=True):
        if problem := text_problem(key) or text_problem(value):
            return _shown(key) or "query", problem
    return None


def guard_request() -> tuple[Any, int] | None:
    """`before_request`: 400 ``{errors: {field: message}}`` for text no store can hold in the
    path, the query or the JSON body."""
    found = _address_problem() or _body_problem()
    if found is None:
        return None
    field, problem = found
    return jsonify(errors={field: problem}), 400


def too_large_message(limit: int | None, shown_limit: int | None = None) -> str:
    """Why a body was refused as too large: its size over `limit` (said as at most
    `shown_limit`, default `limit`), or, for a body within `limit`, a form of too many parts
    or too large a field (Werkzeug refuses both as too large)."""
    size = request.content_length
    shown_limit = shown_limit or limit
    if limit is not None and size is not None and size <= limit:
        return (
            f"the form has too many parts (at most {request.max_form_parts}) or a field over "
            f"{_size(request.max_form_memory_size or 0)}"
        )
    if size and shown_limit:
        return f"the request body is too big: {too_big(size, shown_limit)}"
    return f"the request body is too big (at most {_size(shown_limit or 0)})"


def json_error(error: HTTPException) -> Any:
    """Werkzeug's errors under ``/api/`` as JSON ``{error}`` (others as Flask answers them); an
    upload to ``/api/datasets`` over the limit is its 400 ``{errors: {file}}``."""
    if not request.path.startswith("/api/"):
        return error
    if isinstance(error, RequestEntityTooLarge):
        if request.path.rstrip("/") == "/api/datasets":
            message = too_large_message(request.max_content_length, MAX_BYTES)
            return jsonify(errors={"file": message.replace("request body", "file")}), 400
        return jsonify(error=too_large_message(request.max_content_length)), 413
    answer = jsonify(error=(error.description or error.name or "error").rstrip("."))
    return answer, error.code or 500


def unavailable(error: Exception) -> Any:
    """503 ``{error}`` with ``Retry-After`` for a database or Redis that cannot be reached (an
    outage, a lock held too long), instead of a 500 (a database error that is no
    outage, e.g. a broken query, is a JSON 500)."""
    what = "Redis" if type(error).__module__.startswith("redis") else "the database"
    if what != "Redis" and not is_outage(error):
        log.error("database error", exc_info=error)
        return jsonify(error="internal error: the database refused the request"), 500
    log.warning("%s unavailable: %s", what, error)
    answer = jsonify(error=f"{what} is unavailable for now: try again in a few seconds")
    return answer, 503, {"Retry-After": str(RETRY_AFTER)}


def outage_errors() -> tuple[type[Exception], ...]:
    """The exceptions of a database or Redis out of reach (those of the installed libraries)."""
    return (DatabaseError, InterfaceError, RedisConnectionError, RedisTimeoutError)


def install_input_guards(app: Flask) -> None:
    """The JSON reader, the request guard and the JSON error answers of `app` (4xx for bad
    input, 503 for an outage of the database or Redis)."""
    app.json = BoundedJSONProvider(app)
    app.before_request(guard_request)
    app.register_error_handler(HTTPException, json_error)
    for error in outage_errors():
        app.register_error_handler(error, unavailable)
