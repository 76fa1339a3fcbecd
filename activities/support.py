"""The support desk's side effects: tickets and messages in the database, e-mails to customers and founders."""

from sqlalchemy import Engine


class SupportActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
