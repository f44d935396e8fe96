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

import json
import os
import subprocess
import sys


def mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, stdin=subprocess.DEVNULL)


def apply(plan: dict) -> None:
    cwd = os.getcwd()
    mount("--make-rprivate", "/")
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
        mount("-t", "tmpfs", "-o", f"{options},nosuid,nodev", "tmpfs", stage)
        for keep in cover["keep"]:
            inside = os.path.join(stage, os.path.relpath(keep["path"], cover["path"]))
            if os.path.isdir(keep["path"]):
                os.makedirs(inside, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(inside), exist_ok=True)
                open(inside, "a").close()
            mount("--bind", keep["path"], inside)
            if not keep.get("writable"):
                mount("-o", "remount,bind,ro,nosuid,nodev", inside)
        os.chmod(stage, cover["mode"])
        stages.append((stage, cover["path"]))

    def hides_stages(target: str) -> bool:
        return os.path.commonpath([target, stage_root]) == target

    for stage, target in sorted(stages, key=lambda pair: hides_stages(pair[1])):
        mount("--move", stage, target)
    for path, size in plan["scratch"].items():
        os.makedirs(path, exist_ok=True)
        mount("-t", "tmpfs", "-o", f"mode=1777,size={size},nosuid,nodev", "tmpfs", path)
    for (
        cover
    ) in covers:  # the covers of the repository, home and /dev take no new files
        if not cover["mode"] & 0o002:
            mount("-o", "remount,ro", cover["path"])
    for path in plan["writable"]:  # a scratch folder outside the covers stays writable
        mount("--bind", path, path)
    if plan.get("readonly_root"):
        mount("-o", "remount,bind,ro", "/")
    os.chdir(cwd)  # the scratch folder as the new mounts show it, not the covered one


def main(argv: list[str]) -> None:
    plan = json.loads(argv[1])
    command = argv[argv.index("--") + 1 :]
    apply(plan)
    drop = [
        "setpriv",
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
