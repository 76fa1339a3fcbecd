"""`levqor-api`: serves the API (with its embedded worker) on API_HOST:API_PORT."""

import uvicorn

from api.main import create_app
from core.settings import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
