"""The support desk: tickets, the public contact form, founders' replies, satisfaction scores."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/support", tags=["support"])
