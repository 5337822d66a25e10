#!/usr/bin/env bash
# Make sure the local RabbitMQ answers its management API (the tests create their own vhost
# through it). Enables the plugin when this machine's broker lacks it; does nothing if the API
# already answers or if RABBIT_API points elsewhere.
set -u
api="${RABBIT_API:-http://localhost:15672/api}"
if curl -fsS -u guest:guest "$api/overview" >/dev/null 2>&1; then exit 0; fi
if [ -n "${RABBIT_API:-}" ]; then echo "RABBIT_API=$api does not answer" >&2; exit 0; fi
if command -v rabbitmq-plugins >/dev/null 2>&1; then
  echo "enabling rabbitmq_management on the local broker" >&2
  rabbitmq-plugins enable rabbitmq_management >/dev/null 2>&1 || \
    echo "could not enable rabbitmq_management (not root?); integration tests will say why" >&2
  for _ in $(seq 1 60); do
    curl -fsS -u guest:guest "$api/overview" >/dev/null 2>&1 && exit 0
    sleep 1
  done
  echo "management API did not come up at $api" >&2
else
  echo "no local rabbitmq-plugins; integration tests use AMQP_URI/RABBIT_API or testcontainers" >&2
fi
exit 0
