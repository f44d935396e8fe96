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
from course_tools.grading.isolation import Confinement

GIB = 1024**3


@dataclass
class Limits:
    timeout: float = 600.0  # seconds for the whole notebook, re-runs included
    cell_timeout: float = 300.0  # seconds for one cell
    call_timeout: float = 60.0  # seconds for one request of the tests (a call, a value)
    memory: int = 2 * GIB  # bytes of data memory (RLIMIT_DATA) for the sandbox
    disk: int = 2 * GIB  # bytes in the scratch folder, all files together
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
    """One sandbox: a Python process running IPython, talking over two pipes.

    Under namespaces (see `isolation`) the process started here is `unshare`, whose one child is
    the sandbox, process 1 of its own namespace: killing that child ends everything it started.
    """

    def __init__(self, workdir: Path, env: dict, limits: Limits, confinement):
        self.workdir, self.limits, self.confinement = workdir, limits, confinement
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        command = [
            *confinement.prefix(),
            sys.executable,
            "-m",
            "course_tools.grading.sandbox",
            str(to_child_r),
            str(from_child_w),
            json.dumps(limits.rlimits()),
        ]
        uid = confinement.uid
        options = {}
        if uid is not None and not confinement.isolation.namespaces:
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
        # the most the watchdog saw resident, to explain an exit it did not cause
        self.peak_rss = 0
        self.disk_exceeded = False
        self.garbage = (
            ""  # what was wrong with a malformed message it sent, if it sent one
        )
        self._init_pid: int | None = None
        self._watchdog = threading.Thread(target=self._watch_memory, daemon=True)
        self._watchdog.start()
        self._next_id = 0

    def sandbox_pid(self) -> int | None:
        """The sandbox itself: the launcher's only child under namespaces, else the launcher."""
        if not self.confinement.isolation.namespaces:
            return self.process.pid
        if self._init_pid is None:
            try:
                children = psutil.Process(self.process.pid).children()
            except psutil.Error:
                children = []
            self._init_pid = children[0].pid if children else None
        return self._init_pid

    def _watch_memory(self) -> None:
        # RLIMIT_DATA stops ordinary allocations; shared mappings escape it, resident memory
        # not. RLIMIT_FSIZE caps one file; this caps the scratch folder as a whole.
        limit = int(self.limits.memory * 1.5)
        checks = 0
        while self.process.poll() is None:
            rss = resident_bytes(self.process.pid)
            self.peak_rss = max(self.peak_rss, rss)
            if rss > limit:
                self.memory_exceeded = True
                self.kill()
                return
            checks += 1
            if checks % 4 == 0 and folder_bytes(self.workdir) > self.limits.disk:
                self.disk_exceeded = True
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
                    # a frame that has begun must end soon: a stalled one is garbage
                    reply = protocol.receive(
                        self._from_child, deadline=time.monotonic() + min(left, 10)
                    )
                except (EOFError, OSError) as error:
                    raise SandboxDied("the kernel died") from error
                except protocol.ProtocolError as error:
                    self.garbage = str(error)
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
        pid = self.sandbox_pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            pass

    def alive(self) -> bool:
        return self.process.poll() is None

    def exit_description(self) -> str:
        try:
            code = self.process.wait(timeout=3)  # a dying process may not be reaped yet
        except subprocess.TimeoutExpired:
            code = None
        # The machine's out-of-memory killer may strike before the watchdog's next look.
        oom_killed = code == -signal.SIGKILL and self.peak_rss > self.limits.memory
        if self.memory_exceeded or oom_killed:
            return f"it used more than the memory limit ({self.limits.memory / GIB:.1f} GiB)"
        if self.garbage:
            return f"it wrote garbage on the grader's channel ({self.garbage})"
        if self.disk_exceeded:
            return (
                f"it wrote more than the disk limit ({self.limits.disk / GIB:.1f} GiB)"
            )
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
        """End the sandbox and everything it started."""
        pid = self.sandbox_pid() if self.confinement.isolation.namespaces else None
        if (
            pid is not None
        ):  # process 1 of the namespace: the kernel ends all the others
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if not self.confinement.isolation.namespaces:
            self.confinement.kill_leftovers()
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


def resident_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants; one that ends meanwhile counts 0."""
    try:
        root = psutil.Process(pid)
        family = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for process in family:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass  # gone between the listing and the look: it holds nothing now
    return total


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
    confinement: "Confinement"
    restarts: int = 0
    events: list[str] = field(default_factory=list)
    sandbox: SandboxProcess | None = None

    def __post_init__(self):
        self.deadline = time.monotonic() + self.limits.timeout
        self.initial_files = set(files_in(self.workdir))

    def time_left(self) -> float:
        return self.deadline - time.monotonic()

    def start(self) -> SandboxProcess:
        if self.sandbox is not None:
            if self.sandbox.disk_exceeded:
                # Otherwise the new sandbox starts over the limit and is killed before its
                # replay ends: what the cells wrote goes, and the replay writes it again.
                for path in set(files_in(self.workdir)) - self.initial_files:
                    try:
                        path.unlink()
                    except OSError:  # gone already, or out of reach: the limit will say
                        pass
                self.events.append(
                    "the files written before the disk limit were removed"
                )
            self.sandbox.close()
        self.sandbox = SandboxProcess(
            self.workdir, self.env, self.limits, self.confinement
        )
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


#: How many threads TensorFlow (intra-op) and NumPy's BLAS may use.
THREAD_ENV = ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS")


def thread_env(threads: int) -> dict[str, str]:
    """`threads` for each sandbox's TensorFlow and BLAS, unless the grader's own environment
    says otherwise: two sandboxes on two cores run faster with one thread each than with two
    each, which wait on one another whenever the other sandbox holds a core."""
    return {name: os.environ.get(name, str(threads)) for name in THREAD_ENV}


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
    for name in ("COURSE_QUICK", "KERAS_BACKEND", *THREAD_ENV):
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


def files_in(folder: Path) -> list[Path]:
    """Every file under a folder (links included, not followed)."""
    found = []
    for root, _, names in os.walk(folder):
        found.extend(Path(root) / name for name in names)
    return found


def folder_bytes(folder: Path, most_files: int = 100_000) -> int:
    """Bytes in a folder's files (allocated blocks, so sparse files count what they use)."""
    total, seen, stack = 0, 0, [str(folder)]
    while stack and seen < most_files:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            else:
                total += getattr(info, "st_blocks", 0) * 512 or info.st_size
    return total
