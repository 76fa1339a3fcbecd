"""The search attributes runs carry, so visibility can list them per tenant and the UI can filter."""

from temporalio.common import SearchAttributeKey

TENANT_ID = SearchAttributeKey.for_keyword("TenantId")
DEFINITION_ID = SearchAttributeKey.for_keyword("WorkflowDefinitionId")
RUN_STATUS = SearchAttributeKey.for_keyword("RunStatus")
