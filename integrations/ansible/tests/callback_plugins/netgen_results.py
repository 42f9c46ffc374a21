"""Test support for tests/test_ansible.py: each task result as a JSON line in $NETGEN_RESULTS.

ansible-core has no JSON callback of its own (``json`` is in ansible.posix), and the tests
want the structured results next to the default output that users read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "netgen_results"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result: Any, status: str) -> None:
        line = json.dumps({"task": result.task_name, "status": status, "result": result.result})
        with Path(os.environ["NETGEN_RESULTS"]).open("a", encoding="utf-8") as results:
            results.write(line + "\n")

    def v2_runner_on_ok(self, result: Any) -> None:
        self._record(result, "ok")

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._record(result, "skipped")
