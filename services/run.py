"""Run one service (or the gateway) as its own process.

    python -m services.run cases          # migrations applied, then the nameko service runs
    python -m services.run gateway

Configuration comes from the environment (``services.common.config``). Equivalent to
``nameko run services.cases.service`` with that config; scale a service by starting more
processes (give each its own ``<SERVICE>_HTTP_ADDRESS``, or ``0`` for any free port).

SIGTERM or Ctrl-C stops it once and gracefully: workers in flight finish within ``STOP_GRACE``
seconds (default 10), else they are killed and their unacked messages return to the queue
(``services.common.stopping``). The process then exits 0, without a traceback.
"""
from services.common.green import patch

patch()

import argparse  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402

from services.common import config as cfg  # noqa: E402
from services.common.logs import setup_logging  # noqa: E402


def service_class(name: str):
    module = importlib.import_module("gateway.service" if name == "gateway" else f"services.{name}.service")
    return module.SERVICE


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service", choices=cfg.SERVICES + ("gateway",))
    parser.add_argument("--no-migrate", action="store_true")
    args = parser.parse_args(argv)
    setup_logging(args.service)
    if args.service != "gateway" and not args.no_migrate:
        from services.common.migrate import upgrade

        upgrade(args.service)
    from services.common.stopping import exit_now, serve

    service = service_class(args.service)
    # what is imported now lives as long as the process: the collector need not scan it again
    # (a full collection of the ~100k start-up objects paused a process 60–80 ms; issue 9)
    gc.freeze()
    exit_now(serve(service, cfg.service_config(args.service)))


if __name__ == "__main__":
    main()
