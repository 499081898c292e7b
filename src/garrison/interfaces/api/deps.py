"""What every route shares: the server's context, the authenticated principal, the route
declaration that names its permission, and the services opened for the principal.

``route(router, "GET", "/api/findings", "findings.read")`` registers a function and
declares its permission twice over: as a dependency that refuses (403) a principal
without it, and as ``x-permission`` in the OpenAPI operation, which the authorization
matrix test reads. The service called then checks the permission again (defence in
depth). Services are built per request, lazily, so the app imports no model code at start.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from garrison.core.config import GarrisonConfig
from garrison.core.errors import Unauthenticated
from garrison.core.serveconfig import ServeConfig
from garrison.govern.access import Principal, UserStore, authorizer, require
from garrison.govern.access.sessions import SessionStore
from garrison.govern.access.throttle import LoginThrottle
from garrison.govern.audit import AuditLog
from garrison.interfaces.api.schemas import ERRORS
from garrison.store.state import StateDB

#: The OpenAPI extension naming a route's permission (absent: any signed-in identity).
PERMISSION_KEY = "x-permission"
PRINCIPAL_SCOPE = "garrison.principal"


@dataclass(slots=True)
class Context:
    """One per server: the configuration, the home's state (a locked, thread-safe
    connection), its audit log and the sessions."""

    config: GarrisonConfig
    serve: ServeConfig
    state: StateDB
    audit: AuditLog
    sessions: SessionStore
    throttle: LoginThrottle
    _anonymous: UserStore | None = None
    _triage: Any = None

    def triage(self) -> Any:
        """``[triage]``/``[correlate]`` of the configuration, parsed once per server."""
        if self._triage is None:
            from garrison.triage.config import load_triage_config

            self._triage = load_triage_config(self.config.raw, self.config.path)
        return self._triage

    def users(self, actor: Principal | None = None) -> UserStore:
        """The user store acting as ``actor`` (``None``: authentication and sign-in only)."""
        if actor is None:
            if self._anonymous is None:
                self._anonymous = UserStore(self.state, self.audit)
            return self._anonymous
        return UserStore(self.state, self.audit, actor)


def context(request: Request) -> Context:
    ctx: Context = request.app.state.garrison
    return ctx


def authenticated(request: Request) -> Principal:
    """The identity the guard authenticated for this request (401 if there is none)."""
    who = request.scope.get(PRINCIPAL_SCOPE)
    if not isinstance(who, Principal):
        raise Unauthenticated("authentication required")
    return who


# The dependencies below that neither block nor touch the state are ``async def``: FastAPI
# runs a plain ``def`` dependency in a worker thread, and a thread hop per dependency was a
# large share of a read request's cost under many concurrent clients (bench/bench_api.py).
async def principal(request: Request) -> Principal:
    return authenticated(request)


def need(permission: str) -> Callable[[Request], Awaitable[Principal]]:
    async def check(request: Request) -> Principal:
        who = authenticated(request)
        require(who, permission)
        return who

    return check


def route(
    router: APIRouter, method: str, path: str, permission: str | None, **kwargs: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` for ``method path`` needing ``permission`` (see the module doc)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        extra = {**kwargs.pop("openapi_extra", {})}
        if permission:
            extra[PERMISSION_KEY] = permission
        deps = [Depends(need(permission) if permission else principal)]
        kwargs.setdefault("responses", ERRORS)
        router.add_api_route(
            path, fn, methods=[method], dependencies=deps, openapi_extra=extra, **kwargs
        )
        return fn

    return register


# -- services opened for the principal -----------------------------------------------------
async def workbench(request: Request) -> Any:
    """Cheap to build once ``create_app`` has run the stores' DDL (``StateDB.ensure`` then
    returns without waiting for the state's lock), so it runs on the event loop."""
    from garrison.correlate.service import INDEX_FILE
    from garrison.correlate.workbench import Workbench

    ctx, who = context(request), authenticated(request)
    index = ctx.config.home / INDEX_FILE
    return Workbench(ctx.triage(), ctx.state, index, ctx.audit, who.name, authorizer(who))


def response(request: Request) -> Iterator[Any]:
    from garrison.respond.service import ResponseService

    who = authenticated(request)
    service = ResponseService.open(context(request).config, lambda _state: who)
    try:
        yield service
    finally:
        service.close()


def models(request: Request) -> Any:
    from garrison.measure.training import ModelService

    ctx = context(request)
    return ModelService.open(ctx.config.home, principal=authenticated(request), config=ctx.config)


async def audit_reader(request: Request) -> Any:
    from garrison.govern.audit.reader import AuditReader

    return AuditReader(context(request).audit, authorizer(authenticated(request)))


def intake(request: Request) -> Any:
    from garrison.intake import IntakeService

    who = authenticated(request)
    return IntakeService(context(request).config, authorizer(who), who.name)


async def authorize(request: Request) -> Callable[[str], None]:
    return authorizer(authenticated(request))


Who = Annotated[Principal, Depends(principal)]
Bench = Annotated[Any, Depends(workbench)]
Respond = Annotated[Any, Depends(response)]
Models = Annotated[Any, Depends(models)]
Reader = Annotated[Any, Depends(audit_reader)]
Intake = Annotated[Any, Depends(intake)]
Authorize = Annotated[Callable[[str], None], Depends(authorize)]
