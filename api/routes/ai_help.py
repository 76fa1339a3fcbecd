"""The help chat, the knowledge base and onboarding."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/ai", tags=["ai"])
