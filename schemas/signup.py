"""Self-service sign-up: a new team (a tenant on the free plan) and its first admin, who gets a sign-in link."""

from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from schemas.accounts import EmailAddress
from schemas.api import StrictBody

TeamName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class SignUpCreate(StrictBody):
    team: TeamName
    email: EmailAddress


class SignUpAccepted(BaseModel):
    """The same answer whether a team was made or the address already had an account (which gets a sign-in link)."""

    status: Literal["check_your_email"] = "check_your_email"
