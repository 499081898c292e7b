"""The server's logs: JSON lines on stderr, one object per line.

Access lines are the API's own (``garrison.api.access``: method, route template, status,
duration, principal), already JSON; anything else is wrapped as one JSON object. uvicorn's
access log, which quotes raw paths and query strings, stays off. Used by ``garrison serve``
and by each worker process it starts.
"""

from __future__ import annotations

import json
import logging
import sys


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.name == "garrison.api.access":
            return message
        out = {"level": record.levelname.lower(), "logger": record.name, "message": message}
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=True)


def setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    for name in ("garrison.api", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
