"""Recorded histories still replay on today's workflow code: a non-deterministic change fails here."""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from orchestrator.worker import ALL_WORKFLOWS, WORKFLOW_RUNNER

HISTORIES = Path(__file__).parent / "histories"


def test_there_are_recorded_histories() -> None:
    assert len(list(HISTORIES.glob("*.json"))) >= 6


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
async def test_recorded_history_still_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(
        workflows=ALL_WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=WORKFLOW_RUNNER
    )

    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)

    assert result.replay_failure is None
