"""The knowledge base's search and the tenant's own context for the help chat."""

from sqlalchemy import Engine


class KnowledgeActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
