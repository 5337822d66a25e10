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


def http_to_rpc(name: str, path: str, service: str, method: str):
    """A bare nameko HTTP service: ``POST path`` hands its JSON body to ``service.method`` by RPC
    and answers 201 with the result; ``GET /health`` answers ok (benchmarks/bound.py too)."""

    class Gateway:
        target = RpcProxy(service)

        @http("POST", path)
        def post(self, request):
            body = json.loads(request.get_data(as_text=True))
            return 201, json.dumps(getattr(self.target, method)(body))

        @http("GET", "/health")
        def health(self, request):
            return "ok"

    Gateway.name = name
    return Gateway


FloorGateway = http_to_rpc("bench_floor", "/echo", "bench_echo", "echo")


def serve(config: dict, *services) -> None:
    runner = ServiceRunner(config)
    for service in services:
        runner.add_service(service)
    runner.start()
    try:
        runner.wait()
    except KeyboardInterrupt:
        runner.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--amqp", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    serve({"AMQP_URI": args.amqp, "WEB_SERVER_ADDRESS": f"127.0.0.1:{args.port}", "max_workers": 50,
           "serializer": "json"}, EchoService, FloorGateway)


if __name__ == "__main__":
    main()
