"""Workflow drafts from a sentence."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/ai/workflows", tags=["ai"])
