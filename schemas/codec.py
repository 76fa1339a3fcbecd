"""The bodies of Temporal's codec-server protocol: payloads as JSON, their metadata values and data in base64."""

from pydantic import BaseModel, Field

from schemas.api import StrictBody

MAX_CODEC_PAYLOADS = 1000


class CodecPayload(BaseModel):
    metadata: dict[str, str] = Field(default_factory=dict, max_length=32)
    data: str = ""


class CodecPayloads(StrictBody):
    payloads: list[CodecPayload] = Field(max_length=MAX_CODEC_PAYLOADS)
