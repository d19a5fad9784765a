"""The actor runtime: bounded queues, lifecycle, telemetry and batched compiled handlers."""
