"""Work beside the forward pass, in bounded memory: calls run in order on one thread (shard writes), and an
iterator computed ahead on a thread (tokenising and laying out the next batches). torch's kernels and file
writes release the GIL, so both overlap the forward pass; the bounds (`depth`) keep at most that many items
waiting. An error on the thread is raised again in the caller's thread, as the same exception.
"""
import queue
import threading

_END = object()


class SerialWorker:
    """Runs submitted calls in order on one daemon thread, at most `depth` waiting (submit then blocks).

    After a call fails, the rest are skipped and the error is raised at the next submit or at close.
    """

    def __init__(self, depth=2, name="sae-workbench-writer"):
        self._jobs = queue.Queue(maxsize=depth)
        self._error = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self):
        while True:
            job = self._jobs.get()
            if job is _END:
                return
            if self._error is None:
                try:
                    job()
                except BaseException as e:  # noqa: BLE001 - raised again in the caller's thread
                    self._error = e

    def _raise(self):
        if self._error is not None:
            raise self._error

    def submit(self, job):
        self._raise()
        self._jobs.put(job)

    def close(self):
        """Waits until every submitted call has run (or been skipped after an error), then raises that error."""
        if self._thread.is_alive():
            self._jobs.put(_END)
            self._thread.join()
        self._raise()


class ReadAhead:
    """Iterates `items` on a daemon thread, up to `depth` items ahead of the consumer. close() stops it."""

    def __init__(self, items, depth=2, name="sae-workbench-read-ahead"):
        self._queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(items,), name=name, daemon=True)
        self._thread.start()

    def _put(self, entry):
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, items):
        try:
            for item in items:
                if not self._put((True, item)):
                    return
            self._put((False, _END))
        except BaseException as e:  # noqa: BLE001 - raised again in the consumer's thread
            self._put((False, e))

    def __iter__(self):
        return self

    def __next__(self):
        ok, item = self._queue.get()
        if ok:
            return item
        self._stop.set()
        if item is _END:
            raise StopIteration
        raise item

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
