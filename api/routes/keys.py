"""API key administration and the audit log (admin role)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from sqlalchemy import func, select

from api.auth import Principal, create_key, list_keys, require, revoke_key
from api.db.models import ApiKey, AuditEntry, utcnow
from api.routes.common import created_responses, public_view
from api.schemas import AuditPage, AuditRecord, ErrorBody, KeyCreate, KeyCreated, KeyInfo

router = APIRouter(prefix="/v1/keys", tags=["keys"])
audit_router = APIRouter(prefix="/v1/audit", tags=["keys"])
Admin = Annotated[Principal, Depends(require("keys:admin"))]


def key_info(rec: ApiKey) -> KeyInfo:
    """Public view of a key record (no secret, no digest)."""
    now = utcnow()
    active = rec.revoked_at is None and (rec.expires_at is None or rec.expires_at > now)
    return public_view(KeyInfo, rec, active=active)


@router.post(
    "",
    status_code=201,
    response_model=KeyCreated,
    summary="Create an API key",
    responses=created_responses(
        "Created: the secret, shown this once.", "key_id", RevokeKey=("DELETE", "/v1/keys/{key_id}")
    ),
)
def create(request: Request, response: Response, body: KeyCreate, _p: Admin) -> KeyCreated:
    """A new key with a role and an optional expiry; the secret is in this response only."""
    secret, rec = create_key(request.app.state.sessions, body.role, body.name, body.expires_at)
    response.headers["Location"] = f"/v1/keys/{rec.id}"
    return KeyCreated(**key_info(rec).model_dump(), key=secret)


@router.get("", response_model=list[KeyInfo], summary="List API keys (never the secrets)")
def list_all(request: Request, _p: Admin) -> list[KeyInfo]:
    """Every key: id, name, role, created, expiry, revocation, whether active."""
    return [key_info(r) for r in list_keys(request.app.state.sessions)]


@router.delete(
    "/{key_id}", status_code=204, summary="Revoke an API key", responses={404: {"model": ErrorBody}}
)
def revoke(request: Request, key_id: str, _p: Admin) -> Response:
    """Revoke a key (effective at once in this process, within the key cache time elsewhere)."""
    if revoke_key(request.app.state.sessions, key_id) is None:
        raise HTTPException(404, f"no key {key_id[:64]!r}")
    request.app.state.keys.forget()
    return Response(status_code=204)


@audit_router.get("", response_model=AuditPage, summary="The audit log of writes (newest first)")
def audit(
    request: Request,
    _p: Admin,
    key_id: Annotated[str | None, Query(max_length=32)] = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> AuditPage:
    """Every POST/PUT/PATCH/DELETE made with a valid key: who, what, when, and the answer's status."""
    cond = []
    if key_id:
        cond.append(AuditEntry.key_id == key_id)
    if since is not None:
        cond.append(AuditEntry.at >= since)
    with request.app.state.sessions() as s:
        total = s.scalar(select(func.count()).select_from(AuditEntry).where(*cond)) or 0
        rows = s.scalars(
            select(AuditEntry)
            .where(*cond)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
    items = [AuditRecord.model_validate(r, from_attributes=True) for r in rows]
    return AuditPage(items=items, total=int(total), limit=limit, offset=offset)
