"""What a workflow draft needs besides the AI: the validator's report on a draft and the template drafter
(kept out of workflow code so that changing either never breaks a recorded history)."""

from sqlalchemy import Engine


class DraftActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
