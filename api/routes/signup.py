"""Self-service sign-up on the JSON API: a new team on the free plan whose first admin gets a sign-in link by e-mail.
No credential; limited per address and per client like sign-in links, and the answer never says whether the address
already had an account."""

from fastapi import APIRouter, Request, status

from api.deps import EngineDep, SettingsDep, TemporalDep
from domain.sign_in_links import SignInLimiter
from domain.signup import sign_up
from schemas.signup import SignUpAccepted, SignUpCreate

router = APIRouter(prefix="/api/signup", tags=["sign-up"])


@router.post("", status_code=status.HTTP_202_ACCEPTED)
async def create_signup(
    body: SignUpCreate, request: Request, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> SignUpAccepted:
    """Sign up a team: 202 whether or not the address had an account (it then gets a sign-in link instead); 403
    `signups_closed` while new sign-ups are off; 429 past the rate limits."""
    limiter: SignInLimiter = request.app.state.sign_in_limiter
    await sign_up(engine, temporal, settings, limiter, body, request.client.host if request.client else "unknown")
    return SignUpAccepted()
