"""Progress as JSON lines on stdout, errors as one line on stderr.

The extension reads stdout line by line: every line it sees is one JSON object with an "event" key, so
anything else a library prints must go to stderr (see `quiet_stdout`).
"""
import contextlib
import json
import sys
import threading

_real_stdout = []  # set while quiet_stdout() sends sys.stdout to stderr
_emitting = threading.Lock()  # the capture's shard writer emits from its own thread: one whole line at a time


def emit(event: str, **fields) -> None:
    """Print one JSON line {"event": event, ...fields} to stdout and flush it."""
    record = {"event": event}
    record.update(fields)
    line = json.dumps(record, separators=(",", ":"), default=str) + "\n"
    with _emitting:
        out = _real_stdout[-1] if _real_stdout else sys.stdout
        out.write(line)
        out.flush()


def fail(message: str, code: int = 2) -> "NoReturn":  # noqa: F821 - typing name only
    """Print one line to stderr (newlines folded) and exit with `code`."""
    line = " ".join(str(message).split("\n")).strip()
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
    raise SystemExit(code)


@contextlib.contextmanager
def quiet_stdout():
    """Send whatever libraries print while loading models or data to stderr, so stdout stays JSON lines."""
    _real_stdout.append(sys.stdout)
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        sys.stdout = _real_stdout.pop()
