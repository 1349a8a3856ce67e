"""The local Lambda service: Invoke API, API Gateway over HTTP, S3 triggers, environment pool."""
