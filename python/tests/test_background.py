"""The capture's helper threads: the shard writer and the batch read-ahead keep order, stay bounded, and
hand their errors to the capture's own thread (where they become the usual one line)."""
import json
import os
import threading
import time

import pytest

from conftest import events, paragraphs
from sae_workbench_capture import output
from sae_workbench_capture.cli import main as capture_main
from sae_workbench_common.background import ReadAhead, SerialWorker


def wait_until(condition, what, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_serial_worker_runs_calls_in_order_and_raises_the_first_error_at_close():
    done = []
    w = SerialWorker(depth=2)
    for i in range(5):
        w.submit(lambda i=i: done.append(i))
    w.close()
    assert done == [0, 1, 2, 3, 4]

    done.clear()
    w = SerialWorker(depth=2)

    def boom():
        raise OSError(28, "No space left on device", "shard_00001.safetensors")
    for job in [lambda: done.append(0), boom, lambda: done.append(2)]:
        try:
            w.submit(job)
        except OSError:  # may already surface at a later submit
            break
    with pytest.raises(OSError, match="No space left"):
        w.close()
    assert done == [0], "calls after the failed one are skipped"


def test_serial_worker_blocks_the_submitter_when_depth_calls_wait():
    gate, started = threading.Event(), threading.Event()
    w = SerialWorker(depth=2)
    w.submit(lambda: (started.set(), gate.wait()))
    started.wait()
    w.submit(lambda: None)
    w.submit(lambda: None)  # the queue now holds 2
    third = threading.Thread(target=w.submit, args=(lambda: None,), daemon=True)
    third.start()
    third.join(0.5)
    assert third.is_alive(), "a third waiting call must wait for room"
    gate.set()
    third.join(10)
    assert not third.is_alive()
    w.close()


def test_read_ahead_keeps_order_stays_bounded_and_raises_the_iterators_error():
    assert list(ReadAhead(iter(range(50)), depth=3)) == list(range(50))

    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1
    ahead = ReadAhead(endless(), depth=2)
    wait_until(lambda: ahead._queue.full() and len(produced) == 3, "the read-ahead to fill its queue")
    time.sleep(0.2)
    assert len(produced) == 3, "2 waiting in the queue and 1 waiting to be put, no more"
    assert [next(ahead), next(ahead)] == [0, 1]
    ahead.close()
    assert not ahead._thread.is_alive()

    def broken():
        yield 1
        raise ValueError("corpus.jsonl line 2: not JSON")
    it = ReadAhead(broken())
    assert next(it) == 1
    with pytest.raises(ValueError, match="line 2"):
        next(it)


def test_a_failed_shard_write_is_one_line_and_leaves_only_complete_shards(tmp_path, monkeypatch, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n\n".join(paragraphs(120, seed=5)) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    real = output.CaptureFolder.write_shard

    def second_fails(self, tensors, rows, contexts_end):
        if len(self.shards) == 1:
            raise OSError(28, "No space left on device", os.path.join(self.folder, output.shard_name(1)))
        return real(self, tensors, rows, contexts_end)
    monkeypatch.setattr(output.CaptureFolder, "write_shard", second_fails)
    monkeypatch.chdir(os.path.dirname(os.path.abspath(__file__)))
    with pytest.raises(SystemExit) as stopped:
        capture_main(["--model", "toy_model:make", "--site", "blocks.1", "--corpus", str(corpus), "--out", str(out),
                      "--context-length", "32", "--batch-size", "4", "--shard-rows", "100", "--progress-interval", "1e9"])
    assert stopped.value.code == 2
    err = capsys.readouterr()
    assert err.err.strip() == f"{out / 'shard_00001.safetensors'}: No space left on device", err.err
    assert [e["event"] for e in events(err.out)] == ["start", "shard"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert not manifest["complete"] and [s["file"] for s in manifest["shards"]] == ["shard_00000.safetensors"]
