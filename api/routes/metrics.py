"""`GET /metrics`: the API's request counts and latencies in Prometheus' text format (no tenant data)."""

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Request counters and latency histograms by method, route template and status."""
    return Response(generate_latest(request.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
