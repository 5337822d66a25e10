"""What every service shares: config, database, outbox, idempotent handlers,
tenancy, clock, working-day calendar, metrics, logs, event schemas.

Eventlet-specific code stays inside this package (ARCHITECTURE "Known traps")."""
