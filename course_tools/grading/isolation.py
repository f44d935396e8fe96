"""How a sandbox is kept apart from the grader, the other sandboxes and the machine.

Three levels, the best the machine allows, found once per batch by starting a probe sandbox:

- **namespaces, own user id** (the grader runs as root): each sandbox is process 1 of its own
  PID, mount, network and IPC namespaces (`unshare`, see `confine`) and runs under a user id of
  its own, without capabilities. It sees no other process and cannot signal one, has no
  network, sees an empty tmpfs where the temp folders, the grader's home, the repository, the
  submissions and the results are, and a read-only file system elsewhere. When it ends, every
  process it started ends with it.
- **namespaces, the grader's user id** (an ordinary user, through a user namespace; or root
  where a separate id cannot run Python): the same, except that files the sandbox may write
  (only its scratch folder and its private temp folders) belong to the grader's user.
- **none** (no `unshare`, or the kernel refuses namespaces): processes, files and signals are
  only as separate as user ids make them. The grader says so, loudly, at start.
"""

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from course_tools import ROOT

#: User ids of sandboxes start here; each worker adds its own process id, so concurrent
#: batches never share one.
SANDBOX_UID_BASE = 2_000_000_000
MIB = 1024**2
#: Private temp folders of every sandbox (tmpfs: they count as memory, and vanish with it).
SCRATCH = {"/tmp": 256 * MIB, "/var/tmp": 64 * MIB, "/dev/shm": 64 * MIB}
#: The device files a sandbox keeps; the rest of /dev is hidden.
DEVICES = ("null", "zero", "full", "random", "urandom")
TOOLS = ("unshare", "setpriv")


@dataclass(frozen=True)
class Isolation:
    namespaces: bool
    user_namespace: bool = (
        False  # the grader is not root: unshare --user --map-root-user
    )
    separate_uids: bool = False
    reasons: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        if not self.namespaces:
            return "none (processes, files and signals are shared with the grader)"
        who = (
            "a user id of its own"
            if self.separate_uids
            else "the grader's user id, without capabilities"
        )
        return (
            "PID, mount, network and IPC namespaces; private /tmp, /var/tmp and /dev/shm; "
            f"a read-only file system with the repository and results hidden; {who}"
        )

    def warnings(self) -> list[str]:
        reasons = "; ".join(self.reasons)
        if not self.namespaces:
            return [
                "NO SANDBOX ISOLATION: "
                + reasons
                + ". Submissions run as the grader's processes: one can leave processes "
                "running, fill shared temp folders, read other submissions and signal the "
                "grader. Grade on Linux with util-linux's `unshare` (as root, or as a user "
                "allowed user namespaces)."
            ]
        if not self.separate_uids:
            return [
                "sandboxes keep the grader's user id ("
                + reasons
                + "): they are confined "
                "by namespaces and read-only mounts, not by file permissions."
            ]
        return []


def _plan(
    workdir: Path,
    stage: Path,
    uid: int | None,
    hidden: list[Path],
    shared: list[tuple[Path, Path]] = (),
) -> dict:
    """What `confine` mounts: covers (empty tmpfs with paths bound back), temp folders, and
    read-only views of shared folders inside the scratch folder."""
    keep = {str(workdir.resolve()): True}
    for path in (
        sys.prefix,
        sys.base_prefix,
        os.path.dirname(os.path.realpath(sys.executable)),
        ROOT / "course_tools",
    ):
        keep.setdefault(str(Path(path).resolve()), False)
    # Folders that hold the interpreter, the grader or other people's work: hidden.
    folders = [tempfile.gettempdir(), "/tmp", str(Path.home()), str(ROOT), *hidden]
    folders = sorted(
        {str(Path(f).resolve()) for f in folders if Path(f).is_dir()} - {"/"}
    )
    outermost = [
        f
        for f in folders
        if not any(_inside(f, other) for other in folders if other != f)
    ]
    covers = []
    for folder in outermost:
        mode = 0o1777 if folder in ("/tmp", tempfile.gettempdir()) else 0o755
        kept = [
            {"path": path, "writable": rw}
            for path, rw in keep.items()
            if _inside(path, folder) and path != folder
        ]
        size = SCRATCH["/tmp"] if mode == 0o1777 else 16 * MIB
        covers.append({"path": folder, "mode": mode, "size": size, "keep": kept})
    devices = [
        {"path": f"/dev/{name}", "writable": True}
        for name in DEVICES
        if os.path.exists(f"/dev/{name}")
    ]
    covers.append({"path": "/dev", "mode": 0o755, "size": MIB, "keep": devices})
    uncovered = [
        path
        for path, rw in keep.items()
        if rw and not any(_inside(path, c["path"]) for c in covers)
    ]
    return {
        "stage": str(stage),
        "covers": covers,
        "scratch": {p: s for p, s in SCRATCH.items() if p != "/tmp"},
        "writable": uncovered,
        "shared": [
            {
                "source": str(Path(source).resolve()),
                "target": str(Path(target).resolve()),
            }
            for source, target in shared
        ],
        "readonly_root": True,
        "uid": uid,
    }


def _inside(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder


def command(
    workdir: Path,
    stage: Path,
    uid: int | None,
    hidden: list[Path],
    isolation,
    shared: list[tuple[Path, Path]] = (),
) -> list[str]:
    """The prefix that starts a sandbox command under `isolation` (empty: no namespaces)."""
    # The sandbox's launcher dies with the worker that started it, and its namespace with it.
    prefix = ["setpriv", "--pdeathsig=KILL"]
    if not isolation.namespaces:
        return prefix
    flags = ["--pid", "--fork", "--kill-child", "--mount", "--mount-proc", "--net"]
    flags.append("--ipc")
    if isolation.user_namespace:
        flags = ["--user", "--map-root-user", *flags]
    stage.mkdir(parents=True, exist_ok=True)
    plan = _plan(workdir, stage, uid, hidden, shared)
    return [
        *prefix,
        "unshare",
        *flags,
        sys.executable,
        "-m",
        "course_tools.grading.confine",
        json.dumps(plan),
        "--",
    ]


def _probe(isolation: Isolation, uid: int | None) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory(prefix="isolation-probe-") as tmp:
        workdir, stage = Path(tmp) / "work", Path(tmp) / "stage"
        workdir.mkdir()
        if uid is not None:
            os.chown(workdir, uid, uid)
        options = {}
        if uid is not None and not isolation.namespaces:
            options = {"user": uid, "group": uid, "extra_groups": []}
        hidden_file = str(ROOT / "_config.yml")
        weak = not isolation.namespaces
        probe = [
            sys.executable,
            "-c",
            "import os, IPython, numpy, course_tools.grading.sandbox\n"
            "open('written', 'w').close()\n"
            # the repository is hidden but for the grader's code
            f"assert not os.path.exists({hidden_file!r}) or {weak!r}",
        ]
        try:
            done = subprocess.run(
                [*command(workdir, stage, uid, [], isolation), *probe],
                cwd=workdir,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                capture_output=True,
                text=True,
                timeout=120,
                **options,
            )
        except (OSError, subprocess.SubprocessError) as error:
            return False, str(error)
        said = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return done.returncode == 0 and (workdir / "written").exists(), said


#: Set to `shared-uid` or `none` to grade with less isolation than the machine gives (to test
#: those modes, or to grade where namespaces misbehave); unset: the strongest available.
MODE_ENV = "COURSE_GRADING_ISOLATION"


def detect() -> Isolation:
    """The strongest isolation this machine gives (or the one MODE_ENV asks for)."""
    return _detect(os.environ.get(MODE_ENV, ""))


@functools.cache
def _detect(mode: str) -> Isolation:
    if mode == "none":
        return Isolation(False, reasons=(f"{MODE_ENV}=none",))
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if sys.platform != "linux" or missing:
        why = (
            f"missing {', '.join(missing)}"
            if missing
            else f"{sys.platform} is not Linux"
        )
        return Isolation(False, reasons=(why,))
    root = os.geteuid() == 0
    namespaced = Isolation(True, user_namespace=not root)
    first = f"{MODE_ENV}={mode}"
    if root and mode != "shared-uid":
        uid = SANDBOX_UID_BASE + os.getpid()
        works, said = _probe(Isolation(True, separate_uids=True), uid)
        if works:
            return Isolation(True, separate_uids=True)
        first = f"a separate user id cannot run this Python ({said})"
    works, said = _probe(namespaced, None)
    if works:
        reasons = (first,) if root else ("the grader is not root",)
        return Isolation(True, user_namespace=not root, reasons=reasons)
    reasons = (f"a namespaced probe sandbox failed ({said})",)
    if (
        root
    ):  # without namespaces, a user id of its own still keeps files and signals apart
        uid = SANDBOX_UID_BASE + os.getpid()
        works, _ = _probe(Isolation(False), uid)
        return Isolation(False, separate_uids=works, reasons=reasons)
    return Isolation(False, reasons=reasons)


@dataclass
class Confinement:
    """What one worker's sandboxes run under: the batch's isolation, their user id, and the
    folders hidden from them."""

    isolation: Isolation
    workdir: Path
    stage: Path  # an empty folder of the worker's, where `confine` prepares its mounts
    uid: int | None = None
    hidden: list[Path] = field(default_factory=list)
    #: (folder, where the sandbox sees it): read-only views of the grader's extracted datasets.
    shared: list[tuple[Path, Path]] = field(default_factory=list)
    #: Marks every process of this worker's sandboxes (found again where no namespace is).
    token: str = field(default_factory=lambda: os.urandom(8).hex())

    def prefix(self) -> list[str]:
        return command(
            self.workdir, self.stage, self.uid, self.hidden, self.isolation, self.shared
        )

    def kill_leftovers(self) -> None:
        """Without namespaces: end the processes that carry this worker's token or uid."""
        import psutil

        for process in psutil.process_iter(["uids", "pid"]):
            try:
                if process.pid == os.getpid():
                    continue
                own_uid = self.uid is not None and process.info["uids"].real == self.uid
                if own_uid or process.environ().get(TOKEN_ENV) == self.token:
                    process.kill()
            except (psutil.Error, OSError):
                pass

    def remove_leftovers(self) -> None:
        """Without namespaces: remove what the sandbox's own user left in shared temp folders
        (under namespaces they were private tmpfs, gone with the sandbox)."""
        if self.isolation.namespaces or self.uid is None:
            return
        for folder in SCRATCH:
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.stat(follow_symlinks=False).st_uid != self.uid:
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        os.unlink(entry.path)
                except OSError:
                    pass


#: The environment variable that carries a `Confinement.token` into the sandbox.
TOKEN_ENV = "COURSE_SANDBOX_TOKEN"


def worker_uid(isolation: Isolation) -> int | None:
    """A sandbox user id no other live worker uses (its own process id added to the base)."""
    return SANDBOX_UID_BASE + os.getpid() if isolation.separate_uids else None
