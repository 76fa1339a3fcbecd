"""Session-wide fake servers as pytest fixtures: `target_server`, `smtp_sink`, `fake_openai`, `fake_stripe`.

Each starts once and stops at the end of the session; tests call `.reset()` when earlier calls matter.
"""

from collections.abc import Iterator

import pytest

from tests.fakes.openai import FakeOpenAI
from tests.fakes.smtp import SmtpSink
from tests.fakes.stripe import FakeStripe
from tests.fakes.target import TargetServer


@pytest.fixture(scope="session")
def target_server() -> Iterator[TargetServer]:
    server = TargetServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_stripe() -> Iterator[FakeStripe]:
    server = FakeStripe().start()
    yield server
    server.stop()
