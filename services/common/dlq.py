"""Inspect and replay dead-letter queues.

    python -m services.common.dlq replay QUEUE [--max N]  # move messages back to QUEUE
"""
from __future__ import annotations

import argparse

from kombu import Connection, Queue

from . import config as cfg

ATTEMPTS_HEADER = "x-attempts"  # deliveries so far (classic queues do not count redeliveries)


def dead_letter_queue(queue_name: str) -> Queue:
    return Queue(queue_name + ".dlq", durable=True, auto_delete=False)


def depth(conn: Connection, queue_name: str) -> int:
    """Messages waiting in ``queue_name``'s dead-letter queue (0 if it does not exist)."""
    channel = conn.channel()
    try:
        _, count, _ = channel.queue_declare(dead_letter_queue(queue_name).name, passive=True)
        return count
    except Exception:
        return 0
    finally:
        try:
            channel.close()
        except Exception:
            pass


def replay(amqp_uri: str, queue_name: str, limit: int | None = None) -> int:
    """Move dead letters back to their queue with a fresh attempt count."""
    moved = 0
    with Connection(amqp_uri) as conn:
        dlq = dead_letter_queue(queue_name)(conn.channel())
        dlq.declare()
        producer = conn.Producer()
        while limit is None or moved < limit:
            message = dlq.get(no_ack=False)
            if message is None:
                break
            headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-")}
            headers[ATTEMPTS_HEADER] = 1
            producer.publish(
                message.body, exchange="", routing_key=queue_name, headers=headers,
                content_type=message.content_type, content_encoding=message.content_encoding,
                delivery_mode=2,
            )
            message.ack()
            moved += 1
    return moved


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    rp = sub.add_parser("replay")
    rp.add_argument("queue")
    rp.add_argument("--max", type=int)
    args = parser.parse_args(argv)
    if args.cmd == "replay":
        print(f"replayed {replay(cfg.amqp_uri(), args.queue, args.max)} message(s)")


if __name__ == "__main__":
    main()
