"""The codec server (Temporal's protocol) for the Temporal UI and CLI: decodes payloads, founder only."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from temporalio.converter import PayloadCodec

from api.deps import CallerDep, SettingsDep, TemporalDep
from core.errors import ApiError
from domain.codec import decode_payloads, encode_payloads
from schemas.codec import CodecPayloads
from schemas.i18n import tr

router = APIRouter(prefix="/api/codec", tags=["system"])
ALLOWED_HEADERS = "authorization, content-type, x-namespace"


async def codec_of(
    caller: CallerDep, temporal: TemporalDep, settings: SettingsDep, request: Request, response: Response
) -> PayloadCodec | None:
    """The API's payload codec, for the founder only (404 for anyone else, as for another tenant's ids: a
    tenant key learns nothing about this route), with CORS for the Temporal UI's origin."""
    if not caller.is_founder:
        raise ApiError(404, "not_found", tr("Not found"), field=None)
    _allow_origin(request, response, settings.codec_cors_origins)
    return temporal.data_converter.payload_codec


FounderCodec = Annotated[PayloadCodec | None, Depends(codec_of)]


@router.post("/decode")
async def decode(body: CodecPayloads, codec: FounderCodec) -> CodecPayloads:
    """The payloads decrypted with their tenants' keys; a purged tenant's stay ciphertext (founder only)."""
    return await decode_payloads(codec, body)


@router.post("/encode")
async def encode(body: CodecPayloads, codec: FounderCodec) -> CodecPayloads:
    """The payloads as stored outside a run, which is unchanged (founder only)."""
    return await encode_payloads(codec, body)


@router.options("/{operation}", status_code=status.HTTP_204_NO_CONTENT, include_in_schema=False)
async def preflight(operation: str, request: Request, response: Response, settings: SettingsDep) -> None:
    """CORS preflight of the Temporal UI's origin."""
    _allow_origin(request, response, settings.codec_cors_origins)
    response.headers["Access-Control-Allow-Methods"] = "POST"
    response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = "600"


def _allow_origin(request: Request, response: Response, origins: list[str]) -> None:
    origin = request.headers.get("origin")
    if origin is not None and origin in origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Vary"] = "Origin"
