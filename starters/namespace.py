"""The namespace's history retention: how long Temporal keeps a closed run, set by the platform on start-up
instead of the server's default (the dev server's is 24 hours)."""

from datetime import timedelta

import structlog
from google.protobuf.duration_pb2 import Duration
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, UpdateNamespaceRequest
from temporalio.client import Client

log = structlog.get_logger()


async def namespace_retention(client: Client) -> timedelta:
    described = await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=client.namespace))
    return described.config.workflow_execution_retention_ttl.ToTimedelta()


async def ensure_retention(client: Client, days: int) -> timedelta:
    """Sets the namespace's retention to `days` unless it is already that; returns the retention now."""
    wanted = timedelta(days=days)
    current = await namespace_retention(client)
    if current != wanted:
        ttl = Duration()
        ttl.FromTimedelta(wanted)
        await client.workflow_service.update_namespace(
            UpdateNamespaceRequest(
                namespace=client.namespace, config=NamespaceConfig(workflow_execution_retention_ttl=ttl)
            )
        )
        log.info("namespace retention set", namespace=client.namespace, was=str(current), now=str(wanted))
    return wanted
