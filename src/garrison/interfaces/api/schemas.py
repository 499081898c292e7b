"""What every route module's schemas share: bodies that refuse unknown fields, the one
error shape, and the error statuses every route documents."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    """A request body: an unknown field is a 422 naming it, never ignored."""

    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    error: str


def _doc(why: str) -> dict[str, Any]:
    """An error response: JSON whatever the route's own media type (``/metrics``)."""
    schema = ErrorOut.model_json_schema()
    return {"description": why, "content": {"application/json": {"schema": schema}}}


#: Documented on every authenticated route (the guard and the error mapping produce them).
ERRORS: dict[int | str, dict[str, Any]] = {
    400: _doc("bad request (the message says what)"),
    401: _doc("no valid token or session"),
    403: _doc("the identity lacks the permission, or a session request lacks its CSRF token"),
    404: _doc("no such object"),
    409: _doc("conflicts with the current state"),
    413: _doc("body too large"),
    415: _doc("body is not JSON"),
    422: _doc("invalid body or parameters"),
    429: _doc("too many failed sign-ins: wait Retry-After seconds"),
    503: _doc("storage unavailable"),
}

Note = Field("", max_length=2000, description="Why (kept with the decision).")
Uid = Field(min_length=1, max_length=128)
