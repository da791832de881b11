"""API key administration (admin role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from api.auth import Principal, create_key, require
from api.db.models import ApiKey, utcnow
from api.schemas import ErrorBody, KeyCreate, KeyCreated

router = APIRouter(prefix="/v1/keys", tags=["keys"])


@router.post(
    "",
    status_code=201,
    response_model=KeyCreated,
    summary="Create an API key",
    responses={422: {"model": ErrorBody}},
)
def create(
    request: Request, body: KeyCreate, _p: Annotated[Principal, Depends(require("keys:admin"))]
) -> KeyCreated:
    """A new key with a role; the secret is in this response only."""
    secret, rec = create_key(request.app.state.sessions, body.role, body.name)
    return KeyCreated(id=rec.id, name=rec.name, role=rec.role, key=secret)


@router.delete(
    "/{key_id}", status_code=204, summary="Revoke an API key", responses={404: {"model": ErrorBody}}
)
def revoke(
    request: Request, key_id: str, _p: Annotated[Principal, Depends(require("keys:admin"))]
) -> Response:
    """Revoke a key (effective at once in this process, within the key cache time elsewhere)."""
    with request.app.state.sessions() as s:
        rec = s.get(ApiKey, key_id[:64])
        if rec is None:
            raise HTTPException(404, f"no key {key_id!r}")
        rec.revoked_at = utcnow()
        s.commit()
    request.app.state.keys.forget()
    return Response(status_code=204)
