"""Township convenience-service centre services (nameko on RabbitMQ)."""
