"""Logs written to a file or a pipe are plain text: no colour codes, not even those uvicorn passes along."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

EMIT = """
import logging, structlog
from core.logs import configure_logging
configure_logging({fmt!r}, "INFO")
logging.getLogger("uvicorn.error").info(
    "Uvicorn running on %s", "http://127.0.0.1:8000",
    extra={{"color_message": "Uvicorn running on \\x1b[1m%s\\x1b[0m"}},
)
structlog.get_logger().warning("run started", run_id="r-1")
try:
    raise ZeroDivisionError("while charging with sk_live_abcdefghijklmnop")
except ZeroDivisionError:
    structlog.get_logger().exception("step failed")
"""


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_logs_to_a_file_carry_no_colour_codes(tmp_path: Path, fmt: str) -> None:
    log_file = tmp_path / "api.log"

    with log_file.open("w") as out:
        subprocess.run([sys.executable, "-c", EMIT.format(fmt=fmt)], stderr=out, check=True, timeout=60)

    text = log_file.read_text()
    assert "Uvicorn running on http://127.0.0.1:8000" in text and "run started" in text
    assert "ZeroDivisionError" in text  # the traceback, in JSON too (as the `exception` text)
    assert "\x1b" not in text and "\\x1b" not in text and "color_message" not in text


def test_a_credential_in_an_exception_is_masked_in_json_logs(tmp_path: Path) -> None:
    log_file = tmp_path / "api.log"

    with log_file.open("w") as out:
        subprocess.run([sys.executable, "-c", EMIT.format(fmt="json")], stderr=out, check=True, timeout=60)

    failed = [json.loads(line) for line in log_file.read_text().splitlines() if "step failed" in line]
    assert "while charging with ***" in failed[0]["exception"]
    assert "sk_live_abcdefghijklmnop" not in log_file.read_text()
