"""lambda_local_runner's harness: S3 backends, sandbox lifecycle, Lambda runtime emulation."""
