"""Data access: the only package that touches boto3. It maps ``ClientError`` to domain errors."""
