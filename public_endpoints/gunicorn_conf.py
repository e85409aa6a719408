"""Gunicorn settings for the public endpoints (docker-compose and the tracking benchmark use this file).

    gunicorn -c public_endpoints/gunicorn_conf.py --bind 0.0.0.0:8502 'public_endpoints:create_app()'

Threads, because pixel and click requests are short and mostly wait on the network. After a worker has loaded
the app, everything it allocated at start-up is moved out of the cyclic garbage collector's reach
(gc.freeze): otherwise the collector's full passes over those objects stall every request thread of the worker
for tens of milliseconds while its heap grows in the first seconds under load (measured: the first round of the
tracking benchmark had a p99 of 21-69 ms without it, 12-17 ms with it).
"""

from __future__ import annotations

import gc
import os
from typing import Any

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))


def post_worker_init(worker: Any) -> None:
    gc.freeze()
