"""/docs works without internet: the page names only this server's files, which are served, and the
OpenAPI document it shows declares bearer authentication and the real error envelope for 422."""

import re
from typing import Any

from fastapi.testclient import TestClient

ERROR_REF = "#/components/schemas/ErrorBody"
EXTERNAL = re.compile(r"""(?:src|href)=["']?(?:https?:)?//""")


def test_the_docs_page_references_only_local_assets(api: TestClient) -> None:
    response = api.get("/docs")

    assert response.status_code == 200
    assert not EXTERNAL.search(response.text)
    assert not re.search(r"https?://", response.text)
    assert '"persistAuthorization": true' in response.text


def test_the_docs_assets_are_served_with_their_content_types(api: TestClient) -> None:
    page = api.get("/docs").text
    [script] = re.findall(r"""<script src=["']([^"']+)["']""", page)
    [style] = re.findall(r"""<link[^>]+href=["']([^"']+\.css)["']""", page)

    js, css = api.get(script), api.get(style)

    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "SwaggerUIBundle" in js.text
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_redoc_which_would_need_a_cdn_is_not_served(api: TestClient) -> None:
    assert api.get("/redoc").status_code == 404


def test_the_document_declares_bearer_auth_and_the_envelope_for_422(api: TestClient) -> None:
    schema: dict[str, Any] = api.get("/openapi.json").json()
    create = schema["paths"]["/api/workflows"]["post"]
    start = schema["paths"]["/api/workflows/{workflow_id}/runs"]["post"]

    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert create["security"] == [{"HTTPBearer": []}]
    for operation in (create, start):
        answer = operation["responses"]["422"]["content"]["application/json"]["schema"]
        assert answer == {"$ref": ERROR_REF}
    assert set(schema["components"]["schemas"]["ErrorBody"]["properties"]) >= {"code", "message", "field"}
    assert "HTTPValidationError" not in schema["components"]["schemas"]
