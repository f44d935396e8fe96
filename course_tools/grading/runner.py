"""Run a submission's code cells in a sandbox process, under limits, and survive what it does.

`Session` owns one sandbox at a time. A cell that runs past its time limit is interrupted (and,
if it ignores the interrupt, its sandbox is killed); a sandbox that dies (`os._exit`, a crash,
the memory limit) is replaced by a fresh one that re-runs the cells before the fatal one and
skips that one, so the honest work around a bad cell still counts.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from course_tools import ROOT
from course_tools.grading import protocol

#: First user id of the sandboxes when the grader runs as root (one id per parallel slot).
SANDBOX_UID_BASE = 2_000_000_000
GIB = 1024**3


@dataclass
class Limits:
    timeout: float = 600.0  # seconds for the whole notebook, re-runs included
    cell_timeout: float = 300.0  # seconds for one cell
    call_timeout: float = 60.0  # seconds for one request of the tests (a call, a value)
    memory: int = 2 * GIB  # bytes of data memory (RLIMIT_DATA) for the sandbox
    max_restarts: int = 3

    def rlimits(self) -> dict:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2
        return {
            "RLIMIT_DATA": self.memory,
            # TensorFlow maps ~3 GB of address space it never touches; data is the real limit.
            "RLIMIT_AS": self.memory + 8 * GIB,
            "RLIMIT_CPU": int(self.timeout * max(2, cpus)) + 60,
            "RLIMIT_FSIZE": GIB,
            "RLIMIT_CORE": 0,
            "RLIMIT_NPROC": 512 if os.geteuid() == 0 else None,
        }


class SandboxDied(RuntimeError):
    """The sandbox process ended, or stopped answering, in the middle of a request."""


class RequestTimeout(SandboxDied):
    pass


@dataclass
class CellRecord:
    index: int  # position among the notebook's code cells, from 1
    source: str
    status: str = "not run"  # ok, error, timeout, killed (ended the sandbox), skipped
    message: str = ""


class SandboxProcess:
    """One sandbox: a Python process running IPython, talking over two pipes."""

    def __init__(self, workdir: Path, env: dict, limits: Limits, uid: int | None):
        self.workdir, self.limits, self.uid = workdir, limits, uid
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        command = [
            sys.executable,
            "-m",
            "course_tools.grading.sandbox",
            str(to_child_r),
            str(from_child_w),
            json.dumps(limits.rlimits()),
        ]
        options = {}
        if uid is not None:
            options = {"user": uid, "group": uid, "extra_groups": []}
        self.process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(to_child_r, from_child_w),
            start_new_session=True,
            **options,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.output = OutputTail()
        self._reader = threading.Thread(
            target=self.output.drain, args=(self.process.stdout,), daemon=True
        )
        self._reader.start()
        self.memory_exceeded = False
        self._watchdog = threading.Thread(target=self._watch_memory, daemon=True)
        self._watchdog.start()
        self._next_id = 0

    def _watch_memory(self) -> None:
        # RLIMIT_DATA stops ordinary allocations; shared mappings escape it, resident memory not.
        limit = int(self.limits.memory * 1.5)
        while self.process.poll() is None:
            try:
                root = psutil.Process(self.process.pid)
                rss = sum(
                    p.memory_info().rss for p in [root, *root.children(recursive=True)]
                )
            except psutil.Error:
                rss = 0
            if rss > limit:
                self.memory_exceeded = True
                self.kill()
                return
            time.sleep(0.25)

    def request(self, message: dict, timeout: float) -> dict:
        self._next_id += 1
        message = {**message, "id": self._next_id}
        try:
            protocol.send(self._to_child, message)
        except OSError as error:
            raise SandboxDied(f"the kernel is gone ({error})") from error
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RequestTimeout(f"no answer within {timeout:.0f} s")
            if self._readable(min(left, 0.5)):
                try:
                    reply = protocol.receive(self._from_child)
                except (EOFError, OSError) as error:
                    raise SandboxDied("the kernel died") from error
                except protocol.ProtocolError as error:
                    self.kill()
                    raise SandboxDied(f"the kernel sent garbage ({error})") from error
                if reply.get("id") == self._next_id:
                    return reply
                # a stale or forged reply: ignore it and keep waiting for ours
            elif self.process.poll() is not None and not self._readable(0):
                raise SandboxDied("the kernel died")

    def _readable(self, timeout: float) -> bool:
        import select

        ready, _, _ = select.select([self._from_child], [], [], timeout)
        return bool(ready)

    def interrupt(self) -> None:
        try:
            os.kill(self.process.pid, signal.SIGINT)
        except ProcessLookupError:
            pass

    def alive(self) -> bool:
        return self.process.poll() is None

    def exit_description(self) -> str:
        try:
            code = self.process.wait(timeout=3)  # a dying process may not be reaped yet
        except subprocess.TimeoutExpired:
            code = None
        if self.memory_exceeded:
            return f"it used more than the memory limit ({self.limits.memory / GIB:.1f} GiB)"
        if code is None:
            return "it stopped answering"
        if code < 0:
            name = signal.Signals(-code).name
            hint = {
                "SIGKILL": " (killed: memory or time limit)",
                "SIGSEGV": " (a crash)",
                "SIGABRT": " (an abort, often out of memory)",
                "SIGXCPU": " (CPU time limit)",
            }.get(name, "")
            return f"the kernel was ended by {name}{hint}"
        return f"the kernel exited with status {code}"

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if (
            self.uid is not None
        ):  # anything that left the process group but kept the user id
            for process in psutil.process_iter(["uids"]):
                try:
                    if process.info["uids"] and process.info["uids"].real == self.uid:
                        process.kill()
                except psutil.Error:
                    pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def close(self) -> None:
        self.kill()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self._reader.join(timeout=2)


class OutputTail:
    """Keeps the first and the last few kilobytes of what the sandbox printed."""

    KEEP = 8192

    def __init__(self):
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def drain(self, stream) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            self.total += len(chunk)
            if len(self.head) < self.KEEP:
                room = self.KEEP - len(self.head)
                self.head += chunk[:room]
                chunk = chunk[room:]
            self.tail += chunk
            del self.tail[: max(0, len(self.tail) - self.KEEP)]

    def text(self) -> str:
        skipped = self.total - len(self.head) - len(self.tail)
        middle = f"\n[... {skipped:,} bytes ...]\n" if skipped > 0 else ""
        return (bytes(self.head) + middle.encode() + bytes(self.tail)).decode(
            "utf-8", "replace"
        )


@dataclass
class Session:
    """A submission's run: its cells, its sandbox, and what happened to each cell."""

    cells: list[CellRecord]
    workdir: Path
    env: dict
    limits: Limits
    uid: int | None = None
    restarts: int = 0
    events: list[str] = field(default_factory=list)
    sandbox: SandboxProcess | None = None

    def __post_init__(self):
        self.deadline = time.monotonic() + self.limits.timeout

    def time_left(self) -> float:
        return self.deadline - time.monotonic()

    def start(self) -> SandboxProcess:
        if self.sandbox is not None:
            self.sandbox.close()
        self.sandbox = SandboxProcess(self.workdir, self.env, self.limits, self.uid)
        return self.sandbox

    def run_all(self) -> None:
        """Run every code cell once, in order, replacing the sandbox when one kills it."""
        self.start()
        for cell in self.cells:
            if self.time_left() <= 0:
                cell.status, cell.message = (
                    "skipped",
                    "the notebook's time limit was reached",
                )
                continue
            if not self._run_cell(cell) and not self._restart(before=cell.index):
                for later in self.cells[cell.index :]:
                    later.status, later.message = (
                        "skipped",
                        "the kernel could not be restarted",
                    )
                break

    def _run_cell(self, cell: CellRecord) -> bool:
        """Run one cell; False when the sandbox did not survive it."""
        sandbox = self.sandbox
        timeout = min(self.limits.cell_timeout, max(self.time_left(), 0.1))
        try:
            reply = sandbox.request({"op": "run", "source": cell.source}, timeout)
        except RequestTimeout:
            sandbox.interrupt()
            try:
                reply = sandbox.request({"op": "run", "source": "pass"}, 5.0)
                cell.status = "timeout"
                cell.message = (
                    f"ran past its time limit ({timeout:.0f} s) and was interrupted"
                )
                return True
            except SandboxDied:
                sandbox.kill()
                cell.status = "killed"
                cell.message = (
                    f"ran past its time limit ({timeout:.0f} s) and ignored the interrupt; "
                    "the kernel was restarted without it"
                )
                return False
        except SandboxDied:
            cell.status = "killed"
            restarted = "the kernel was restarted without this cell"
            cell.message = f"{sandbox.exit_description()}; {restarted}"
            tail = sandbox.output.text().strip()[-600:]
            if tail:
                cell.message += f"\nlast output:\n{tail}"
            return False
        if reply.get("ok"):
            cell.status = "ok"
        else:
            cell.status = "error"
            error = str(reply.get("error") or reply.get("failed") or "unknown error")
            kind = reply.get("error_type")
            if kind == "SystemExit":
                error += " (sys.exit() ends nothing here: the grader went on)"
            elif kind == "MemoryError":
                error += f" (the memory limit is {self.limits.memory / GIB:.1f} GiB)"
            cell.message = error
        return True

    def _restart(self, before: int) -> bool:
        """A fresh sandbox with the state of the cells before `before` (1-based), replayed."""
        while self.restarts < self.limits.max_restarts and self.time_left() > 0:
            self.restarts += 1
            self.events.append(f"kernel restarted ({self.restarts})")
            self.start()
            for cell in self.cells[: before - 1]:
                if cell.status in ("killed", "skipped", "timeout"):
                    continue
                if not self._run_cell(cell):
                    break  # this cell killed the sandbox during the replay: start over without it
            else:
                return True
        return False

    def ensure_alive(self) -> bool:
        """Bring back a sandbox with the whole notebook's state, for the tests; False if not."""
        if self.sandbox is not None and self.sandbox.alive():
            return True
        return self._restart(before=len(self.cells) + 1)

    def request(self, message: dict, timeout: float | None = None) -> dict:
        if not self.ensure_alive():
            raise SandboxDied("the kernel could not be restarted")
        left = (
            self.time_left() + 30.0
        )  # the tests get a little time after the notebook's run
        timeout = min(timeout or self.limits.call_timeout, max(left, 0.1))
        try:
            return self.sandbox.request(message, timeout)
        except SandboxDied:
            self.sandbox.kill()
            raise

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()


def sandbox_uid(slot: int) -> int | None:
    """The user id for sandboxes of parallel slot `slot`, or None to keep the grader's own.

    Only root can switch, and only to an id that can still run this Python (an interpreter under
    a private home folder, for example, cannot be run by another user: then the sandbox keeps
    root's id and the grader says so).
    """
    if os.geteuid() != 0:
        return None
    uid = SANDBOX_UID_BASE + slot
    try:
        probe = subprocess.run(
            [
                sys.executable,
                "-c",
                "import IPython, numpy, course_tools.grading.sandbox",
            ],
            user=uid,
            group=uid,
            extra_groups=[],
            cwd="/",
            env={
                "PATH": os.environ.get("PATH", ""),
                "PYTHONPATH": str(ROOT),
                "HOME": "/",
            },
            capture_output=True,
            check=False,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return uid if probe.returncode == 0 else None


def sandbox_env(workdir: Path, extra: dict | None = None) -> dict:
    """A small environment: no credentials, caches in the scratch folder, quick mode passed on."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "HOME": str(workdir),
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "IPYTHONDIR": str(workdir / ".ipython"),
        "MPLCONFIGDIR": str(workdir / ".matplotlib"),
        "MPLBACKEND": "Agg",
        "KERAS_HOME": str(workdir / ".keras"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PIP_NO_INDEX": "1",
    }
    for name in ("COURSE_QUICK", "KERAS_BACKEND", "OMP_NUM_THREADS"):
        if name in os.environ:
            env[name] = os.environ[name]
    env.update(extra or {})
    return env


def prepare_workdir(workdir: Path, uid: int | None) -> None:
    """Hand the scratch folder to the sandbox's user id (root only)."""
    if uid is None:
        return
    for path in [workdir, *workdir.rglob("*")]:
        os.chown(path, uid, uid, follow_symlinks=False)
    os.chmod(workdir, 0o700)


def remove_workdir(workdir: Path) -> None:
    shutil.rmtree(workdir, ignore_errors=True)
