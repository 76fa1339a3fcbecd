"""The AI debugger: diagnoses of failed runs and their fixes."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/ai/runs", tags=["ai"])
