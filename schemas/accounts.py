"""Web app accounts: users and their roles, sign-in mail (a workflow's input and result), and a session's view."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from schemas.api import StrictBody

UserRole = Literal["admin", "member", "founder"]
TenantRole = Literal["admin", "member"]
# A bare address, at most as long as SMTP allows; stored lower-cased.
EmailAddress = Annotated[str, Field(max_length=254, pattern=r"^[^@\s<>,;:\"]+@[^@\s<>,;:\"]+\.[^@\s<>,;:\"]+$")]
SignInMailKind = Literal["sign_in", "invite"]


class UserPublic(BaseModel):
    id: str
    tenant_id: str | None
    email: str
    name: str | None
    role: UserRole
    language: str
    invited_by: str | None
    created_at: datetime
    removed_at: datetime | None


class UserInvite(StrictBody):
    email: EmailAddress
    role: TenantRole = "member"


class SignInMailInput(BaseModel):
    """What `SignInMail` needs to mint and send one link: the link's row id (the address is read by the activity,
    so neither it nor the token enters the workflow's history) and where links point."""

    link_id: str
    base_url: str
    kind: SignInMailKind = "sign_in"


class SignInMailSent(BaseModel):
    sent: bool
    message_id: str | None = None


class SessionView(BaseModel):
    """A live web session and whose it is, as /auth/status shows it."""

    session_id: str
    csrf_token: str
    user_id: str
    email: str
    name: str | None
    role: UserRole
    tenant_id: str | None
    tenant_name: str | None
    tenant_status: str
    created_at: datetime
    expires_at: datetime
    language: str = "en"  # the user's stored language (a core/i18n.py tag)


class UserRoleChange(StrictBody):
    role: TenantRole
