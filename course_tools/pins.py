"""The `name==version` pins of a requirements file: the one reader of requirements*.txt."""

from pathlib import Path

from packaging.utils import canonicalize_name

from course_tools import ROOT


def pins(path: Path = ROOT / "requirements.txt") -> dict[str, str]:
    """Each pinned package's canonical name (PEP 503: `Jinja2` is `jinja2`, `ml_dtypes` is
    `ml-dtypes`) and its version."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].strip()
        if "==" in requirement:
            name, version = requirement.split("==", 1)
            found[canonicalize_name(name)] = version.strip()
    return found
