"""What a diagnosis reads and writes: the failed run's facts, the category rules' fallback, the fix's record."""

from sqlalchemy import Engine


class DiagnosisActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
