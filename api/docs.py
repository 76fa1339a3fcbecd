"""The API docs at /docs, served from vendored Swagger UI files (no CDN: the page works without internet)."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI = Path(__file__).parent / "web" / "static" / "vendor" / "swagger-ui"
# A path of its own, not /static: the web app mounts that one.
ASSETS = "/docs-assets/swagger-ui"
NO_FAVICON = "data:,"  # FastAPI's default favicon is on another host


def install_docs(app: FastAPI) -> None:
    """Serves Swagger UI's files under ASSETS and the docs page at /docs (the app is made with docs_url=None).
    The page keeps the app's `swagger_ui_parameters` (persistAuthorization: the token survives a reload)."""
    # check_dir=False: an install without the vendored files still starts (its /docs page is then bare).
    app.mount(ASSETS, StaticFiles(directory=SWAGGER_UI, check_dir=False), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=NO_FAVICON,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )
