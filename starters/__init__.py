"""The caller's side of Temporal: workflow ids, starting, signalling, updating, querying and listing
workflows, and the schedules that start them. Workflow classes are only referenced, never run, here."""
