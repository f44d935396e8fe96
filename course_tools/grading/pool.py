"""Long-lived grading workers: one per job slot, each grading one submission after another.

Starting a worker costs seconds (Python, then Keras for the tests), more than grading a short
exercise, so a batch keeps a worker per slot and hands it its jobs one at a time. Every
submission still runs in a sandbox process of its own, which the worker starts afresh. A worker
that runs past its time, dies or answers something that is not a result is killed, and the
slot's next job gets a fresh one.
"""

import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading

from course_tools import ROOT
from course_tools.grading.runner import OutputTail


class WorkerFailed(Exception):
    """The worker gave no result; the message says why (and what it printed last)."""

    def __init__(self, message: str, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out


class WorkerGone(Exception):
    """The worker had exited before it took the job: the job can go to a fresh one."""


class Worker:
    def __init__(self):
        self.killed = False
        # The worker dies with the batch (a killed batch leaves no worker running on).
        prefix = ["setpriv", "--pdeathsig=KILL"] if shutil.which("setpriv") else []
        self.process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "course_tools.grading.worker"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.lines: queue.Queue = queue.Queue()
        self.errors = OutputTail()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(
            target=self.errors.drain, args=(self.process.stderr,), daemon=True
        ).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)  # end of output: the worker has exited

    def grade(self, job: dict, timeout: float) -> dict:
        """The worker's result for `job`, or WorkerFailed (the worker is then killed)."""
        try:
            self.process.stdin.write(json.dumps(job).encode() + b"\n")
            self.process.stdin.flush()
        except OSError as error:
            self.kill()
            raise WorkerGone(str(error)) from error
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise WorkerFailed(
                f"grading took longer than {timeout:.0f} s", timed_out=True
            ) from None
        try:
            if line is None:
                raise ValueError("no result")
            return json.loads(line.decode("utf-8"))
        except ValueError:
            self.kill()
            self.process.wait()
            tail = self.errors.text()[-2000:]
            raise WorkerFailed(
                f"the grader failed (exit {self.process.returncode}): {tail}"
            ) from None

    def alive(self) -> bool:
        return not self.killed and self.process.poll() is None

    def kill(self) -> None:
        self.killed = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def close(self) -> None:
        """Let the worker finish (end of its input), else kill it."""
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            self.process.wait()


class Pool:
    """A worker per thread of the batch's thread pool, started when that thread needs one."""

    def __init__(self):
        self._local = threading.local()
        self._lock = threading.Lock()
        self.workers: list[Worker] = []
        self.started = 0  # workers started in all

    def grade(self, job: dict, timeout: float) -> dict:
        """The result of `job` from this thread's worker; WorkerFailed when there is none."""
        for _ in range(2):
            worker = getattr(self._local, "worker", None)
            if worker is None or not worker.alive():
                worker = self._local.worker = Worker()
                with self._lock:
                    self.workers.append(worker)
                    self.started += 1
            try:
                return worker.grade(job, timeout)
            except WorkerGone:
                continue  # it died after its last job: give this one to a fresh worker
        raise WorkerFailed("the grader's worker could not be started")

    def kill(self) -> None:
        with self._lock:
            for worker in self.workers:
                worker.kill()

    def close(self) -> None:
        with self._lock:
            for worker in self.workers:
                worker.close()
            self.workers.clear()
