"""Pydantic models: request and response bodies and domain records."""
