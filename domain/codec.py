"""The codec server: the platform's payload codec over HTTP, so the Temporal UI and CLI can read live runs."""

import base64
import binascii

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from core.errors import ApiError
from schemas.codec import CodecPayload, CodecPayloads
from schemas.i18n import tr


async def decode_payloads(codec: PayloadCodec | None, body: CodecPayloads) -> CodecPayloads:
    """Each payload decrypted; one whose tenant's key was destroyed (purged) stays ciphertext."""
    decoded = []
    for payload in _payloads(body):
        try:
            [payload] = await codec.decode([payload]) if codec else [payload]
        except ValueError:  # TenantKeyDestroyed, or a payload that names no tenant properly
            pass
        decoded.append(payload)
    return _body(decoded)


async def encode_payloads(codec: PayloadCodec | None, body: CodecPayloads) -> CodecPayloads:
    """The payloads as the platform would store them outside any run: unchanged, since only a run's own
    payloads are encrypted (with its tenant's key), and this request names no run."""
    payloads = _payloads(body)
    return _body(await codec.encode(payloads) if codec else payloads)


def _payloads(body: CodecPayloads) -> list[Payload]:
    try:
        return [
            Payload(
                metadata={key: _bytes(value) for key, value in payload.metadata.items()},
                data=_bytes(payload.data),
            )
            for payload in body.payloads
        ]
    except (binascii.Error, ValueError):
        raise ApiError(
            422, "invalid_payload", tr("Payload data and metadata must be base64"), field="payloads"
        ) from None


def _bytes(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _body(payloads: list[Payload]) -> CodecPayloads:
    return CodecPayloads(
        payloads=[
            CodecPayload(
                metadata={key: base64.b64encode(value).decode() for key, value in payload.metadata.items()},
                data=base64.b64encode(payload.data).decode(),
            )
            for payload in payloads
        ]
    )
