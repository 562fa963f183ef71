"""Tuishou domain package: models, domain logic, data access, observability and the REST resolver.

Layering: handlers (functions/*) -> logic -> dal. Only ``tuishou.dal`` touches boto3.
"""
