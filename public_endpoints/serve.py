"""Run the public endpoints locally under waitress: ``python -m public_endpoints.serve --host H --port P``.

Production runs ``create_app()`` under gunicorn instead: ``gunicorn 'public_endpoints:create_app()'``.
"""

from __future__ import annotations

import argparse
import gc
import signal
import sys

from core.config import load_settings
from core.errors import ConfigError
from core.logging import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="public_endpoints.serve", description=__doc__)
    parser.add_argument("--host", help="interface to listen on (default PUBLIC_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default PUBLIC_PORT, 8502)")
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads (default 8)")
    args = parser.parse_args(argv)

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(settings)

    import waitress

    from public_endpoints import create_app

    app = create_app(settings)
    gc.freeze()  # start-up objects out of the cyclic collector's passes (see gunicorn_conf.py)
    host = args.host or settings.public_host
    port = args.port or settings.public_port
    # SIGTERM (honcho, docker stop) exits like Ctrl-C, so exit handlers run: buffered tracking events are written.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"Public endpoints: http://{host}:{port}  (health: /health)", flush=True)
    waitress.serve(app, host=host, port=port, threads=args.threads, ident="sales-agent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
