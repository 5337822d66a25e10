"""The floor of the intake benchmark: the least a request through nameko can cost here.

A bare nameko HTTP entrypoint (``POST /echo``) that calls one RPC service which echoes the
body back, both with ``max_workers`` 50, on the broker the system uses. Whatever the real path
(`POST /intake/applications` through the gateway) costs above this is ours to remove.

    python benchmarks/floor.py --amqp amqp://… --port 8123
"""
from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import json  # noqa: E402

from nameko.rpc import RpcProxy, rpc  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402
from nameko.web.handlers import http  # noqa: E402


class EchoService:
    name = "bench_echo"

    @rpc
    def echo(self, body):
        return body


class FloorGateway:
    name = "bench_floor"
    echo = RpcProxy("bench_echo")

    @http("POST", "/echo")
    def post(self, request):
        body = json.loads(request.get_data(as_text=True))
        return 201, json.dumps(self.echo.echo(body))

    @http("GET", "/health")
    def health(self, request):
        return "ok"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--amqp", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    config = {"AMQP_URI": args.amqp, "WEB_SERVER_ADDRESS": f"127.0.0.1:{args.port}",
              "max_workers": 50, "serializer": "json"}
    runner = ServiceRunner(config)
    runner.add_service(EchoService)
    runner.add_service(FloorGateway)
    runner.start()
    try:
        runner.wait()
    except KeyboardInterrupt:
        runner.stop()


if __name__ == "__main__":
    main()
