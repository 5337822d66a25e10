"""Issue an operator token (the platform's own credential) from the command line.

    python -m gateway.tokens operator [--days 30]

It records the token in staff (so it can be revoked) and signs it with the gateway's key
(``GATEWAY_JWT_SECRET``, or ``var/jwt-secret`` on one machine). Whoever can run this on a
machine with the key and the broker is an operator: keep both private.
"""
from services.common.green import patch

patch()

import argparse  # noqa: E402

from nameko.standalone.rpc import ServiceRpcProxy  # noqa: E402

from services.common import config as cfg  # noqa: E402

from . import auth  # noqa: E402

OPERATOR_CONTEXT = {"roles": ["operator"], "user_id": "operator-cli"}


def operator_token(days: int = 30, amqp_uri: str | None = None, key: str | None = None, label="cli") -> str:
    with ServiceRpcProxy("staff", {"AMQP_URI": amqp_uri or cfg.amqp_uri()},
                         context_data=OPERATOR_CONTEXT, timeout=15) as staff:
        record = staff.issue_token(None, days, label)
    return auth.sign(record, key)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["operator"])
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args(argv)
    print(operator_token(args.days))


if __name__ == "__main__":
    main()
