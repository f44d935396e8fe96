"""Set up a sandbox's private view of the machine, then become the sandbox.

Run by the grader as the first process of fresh PID, mount, network and IPC namespaces
(`unshare`, see `isolation`): `python -m course_tools.grading.confine PLAN_JSON -- COMMAND...`.
It is trusted code that still holds the namespace's capabilities; it

- covers each folder of the plan (the temp folders, the grader's home, the repository, the
  submissions, the results, private solutions) with an empty tmpfs, into which only the paths
  the sandbox needs are bound back (its scratch folder writable, the interpreter read-only);
- makes the rest of the file system read-only;
- drops every capability (and switches to the sandbox's own user id when it has one) and execs
  COMMAND, which becomes process 1 of the namespace: when it ends, the kernel kills every
  process it started, whatever their session or group.

The temp folders are size-limited tmpfs that vanish with the namespace, so nothing a submission
writes to `/tmp`, `/var/tmp` or `/dev/shm` outlives it or reaches another submission.
"""

import ctypes
import json
import os
import sys

# mount(2)'s flags (linux/mount.h). The system call, not util-linux's `mount`: in a user
# namespace (an ordinary user grading) `mount` does the work, then fails on a step of its own.
MS_RDONLY, MS_NOSUID, MS_NODEV = 1, 2, 4
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 32, 4096, 8192, 16384, 1 << 18
SAFE = MS_NOSUID | MS_NODEV


def mount(
    source: str | None, target: str, kind: str | None, flags: int, data: str = ""
) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
    encoded = [
        None if text is None else text.encode() for text in (source, target, kind)
    ]
    if libc.mount(*encoded, flags, data.encode() or None) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {source or ''} on {target}: {os.strerror(error)}")


def read_only(path: str, bound: bool) -> None:
    mount(None, path, None, MS_REMOUNT | MS_RDONLY | SAFE | (MS_BIND if bound else 0))


def bind_shared(plan: dict, folder: str, seen_at: str) -> None:
    """Bind each shared folder (the grader's extracted datasets) whose mount point lies in
    `folder` read-only onto it, `folder` being visible at `seen_at` now (its stage, or itself),
    while the shared folder's source is still visible."""
    for shared in plan.get("shared", []):
        if os.path.commonpath([shared["target"], folder]) == folder:
            inside = os.path.join(seen_at, os.path.relpath(shared["target"], folder))
            mount(shared["source"], inside, None, MS_BIND | MS_REC)
            read_only(inside, bound=True)


def apply(plan: dict) -> None:
    cwd = os.getcwd()
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    stage_root = plan["stage"]
    covers = plan["covers"]
    # Stage each cover (a tmpfs with its kept paths bound in) while the real paths are visible,
    # then move the stages over their folders, the one that hides the stages themselves last.
    stages = []
    for number, cover in enumerate(covers):
        stage = os.path.join(stage_root, str(number))
        os.makedirs(stage, exist_ok=True)
        options = f"mode={cover['mode']:o}" + (
            f",size={cover['size']}" if cover.get("size") else ""
        )
        mount("tmpfs", stage, "tmpfs", SAFE, options)
        for keep in cover["keep"]:
            inside = os.path.join(stage, os.path.relpath(keep["path"], cover["path"]))
            if os.path.isdir(keep["path"]):
                os.makedirs(inside, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(inside), exist_ok=True)
                open(inside, "a").close()
            mount(keep["path"], inside, None, MS_BIND)
            if not keep.get("writable"):
                read_only(inside, bound=True)
        bind_shared(plan, cover["path"], stage)
        os.chmod(stage, cover["mode"])
        stages.append((stage, cover["path"]))

    def hides_stages(target: str) -> bool:
        return os.path.commonpath([target, stage_root]) == target

    for stage, target in sorted(stages, key=lambda pair: hides_stages(pair[1])):
        mount(stage, target, None, MS_MOVE)
    for path, size in plan["scratch"].items():
        os.makedirs(path, exist_ok=True)
        mount("tmpfs", path, "tmpfs", SAFE, f"mode=1777,size={size}")
    for (
        cover
    ) in covers:  # the covers of the repository, home and /dev take no new files
        if not cover["mode"] & 0o002:
            read_only(cover["path"], bound=False)
    for path in plan["writable"]:  # a scratch folder outside the covers stays writable
        mount(path, path, None, MS_BIND)
        bind_shared(plan, path, path)
    if plan.get("readonly_root"):
        read_only("/", bound=True)
    os.chdir(cwd)  # the scratch folder as the new mounts show it, not the covered one


def main(argv: list[str]) -> None:
    plan = json.loads(argv[1])
    command = argv[argv.index("--") + 1 :]
    apply(plan)
    drop = [
        "setpriv",
        # Dies with `unshare`, and so with the worker: set here, after the user id changes,
        # since a change of user id clears what `unshare --kill-child` set.
        "--pdeathsig=KILL",
        "--no-new-privs",
        "--bounding-set=-all",
        "--inh-caps=-all",
    ]
    uid = plan.get("uid")
    if uid is not None:
        drop += [f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    os.execvp(drop[0], [*drop, *command])


if __name__ == "__main__":
    main(sys.argv)
