"""Errors as HTTP: every ``GarrisonError`` to its status with one line of JSON
``{"error": ...}``, request validation to 422 naming the field, anything unexpected to a
bare 500 (logged on the server with its traceback, never sent: no path, no frame)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from garrison.core.errors import (
    AccessDenied,
    CheckFailed,
    Conflict,
    GarrisonError,
    NotFound,
    StorageError,
    TooManyRequests,
    Unauthenticated,
)
from garrison.core.text import visible
from garrison.govern.audit import AuditKeyError
from garrison.govern.registry.store import RegistryConflict
from garrison.store.lock import HomeBusy

log = logging.getLogger("garrison.api")
#: Most specific first: ``Unauthenticated`` is an ``AccessDenied``, ``NotFound`` a usage error.
STATUS: tuple[tuple[type[GarrisonError], int], ...] = (
    (Unauthenticated, 401),
    (TooManyRequests, 429),
    (AccessDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (CheckFailed, 409),
    (StorageError, 503),
    (HomeBusy, 503),
    (AuditKeyError, 503),
    (RegistryConflict, 409),
)


def status_of(exc: GarrisonError) -> int:
    for kind, status in STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error shape: one line of text, control characters made visible."""
    return JSONResponse({"error": visible(message, 500)}, status_code=status, headers=headers)


def _field(err: dict[str, Any]) -> str:
    loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
    return ".".join(loc) or "body"


async def _garrison(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GarrisonError)  # noqa: S101 - narrows the type: Starlette calls this handler for this class only
    status = status_of(exc)
    if status == 503:
        log.error("storage unavailable: %s", exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    return error(status, str(exc), headers)


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - narrows the type: Starlette calls this handler for this class only
    errors = list(exc.errors())
    if not errors:
        return error(422, "invalid request")
    first = errors[0]
    kind = str(first.get("type", ""))
    if kind == "json_invalid":
        return error(422, "the body is not valid JSON")
    if kind == "extra_forbidden":
        return error(422, f"unknown field {_field(first)!r}")
    return error(422, f"{_field(first)}: {first.get('msg', 'invalid')}")


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - narrows the type: Starlette calls this handler for this class only
    return error(exc.status_code, str(exc.detail), dict(exc.headers or {}) or None)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error(500, "internal error (logged on the server)")


def install(app: FastAPI) -> None:
    app.add_exception_handler(GarrisonError, _garrison)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
