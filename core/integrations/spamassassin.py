"""SpamAssassin's score of a message, from Debian's ``spamassassin`` run locally (-L: no network tests).

Where the program is missing the result says so (``available=False``); no score is ever made up.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from core.errors import ConnectorError
from core.integrations.base import SpamRule, SpamScore

CONNECTOR = "spamassassin"
_SUMMARY = re.compile(r"Content analysis details:\s*\(\s*(-?[\d.]+) points?,\s*(-?[\d.]+) required\)")
_RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s+(.*)$")


class SpamAssassinCli:
    label = "SpamAssassin (local rules)"

    def __init__(self, *, executable: str = "spamassassin", timeout: float = 60.0) -> None:
        self.executable, self.timeout = executable, timeout

    def score(self, raw_message: bytes) -> SpamScore:
        path = shutil.which(self.executable)
        if path is None:
            return SpamScore(available=False, note="SpamAssassin is not installed here: no spam score.")
        try:
            done = subprocess.run([path, "-L", "-t"], input=raw_message, capture_output=True,  # noqa: S603
                                  timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ConnectorError(f"SpamAssassin took longer than {self.timeout:.0f} s", connector=CONNECTOR,
                                 retryable=True) from None
        return parse_report(done.stdout.decode("utf-8", "replace"))


def parse_report(report: str) -> SpamScore:
    """The summary and the rule table that ``spamassassin -t`` appends to the message."""
    summary = _SUMMARY.search(report)
    if summary is None:
        raise ConnectorError("SpamAssassin gave no report", connector=CONNECTOR, retryable=False)
    table = report[summary.end():]
    rules: list[SpamRule] = []
    for line in table.splitlines():
        matched = _RULE.match(line)
        if matched:
            rules.append(SpamRule(float(matched.group(1)), matched.group(2), matched.group(3).strip()))
        elif rules and line.startswith(" " * 10) and line.strip():
            last = rules[-1]
            rules[-1] = SpamRule(last.points, last.name, f"{last.description} {line.strip()}")
    return SpamScore(available=True, score=float(summary.group(1)), required=float(summary.group(2)),
                     rules=tuple(rules))
