"""The definition language: step models, validation, flow analysis, references and sandboxed expressions.

Pure code (no I/O), imported by the API and passed through Temporal's workflow sandbox.
"""
