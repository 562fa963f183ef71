"""Models shared by every route."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Role = Literal["merchant", "promoter", "admin"]


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable error code, e.g. validation_error, not_found.")
    message: str
    field: str | None = Field(default=None, description="The offending request field, when one is to blame.")


class ErrorResponse(BaseModel):
    error: ErrorDetail


class Principal(BaseModel):
    """The caller, taken from the verified Cognito ID token (never from the request body)."""

    user_id: str = Field(description="The Cognito `sub`.")
    role: Role
    username: str | None = None
    email: str | None = Field(default=None, description="The token's email claim (not returned by /me).")


class MeResponse(BaseModel):
    user_id: str
    role: Role
    username: str | None = None
