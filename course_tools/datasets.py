"""Seed a Keras cache from the offline copies in ../shared/data, where `get_file` finds them.

Notebooks never know about this: they call `get_file` with the canonical URL, which looks in
`$KERAS_HOME/datasets/` before it downloads anything.
"""

import os
import shutil
import tarfile
import zipfile
from pathlib import Path

from course_tools import ROOT

OFFLINE_DATASETS = ROOT.parent / "shared" / "data" / "keras-cache" / "datasets"


class CorruptDatasetError(RuntimeError):
    pass


def check_archive(path: Path) -> None:
    """Raise CorruptDatasetError with a readable message if an archive cannot be read to its end."""
    try:
        if path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
                if bad is not None:
                    raise CorruptDatasetError(
                        f"{path}: member {bad} fails its CRC check"
                    )
        elif path.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(path) as archive:
                for (
                    _
                ) in archive:  # walking every member reads the whole compressed stream
                    pass
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as error:
        raise CorruptDatasetError(
            f"{path}: not a readable archive ({error})"
        ) from error


def seed_keras_home(
    keras_home: Path, source: Path = OFFLINE_DATASETS, fresh: bool = False
) -> list[str]:
    """Copy the offline datasets into `keras_home/datasets` and return one message per skipped file.

    A corrupt file is reported and skipped, not copied: `get_file` then tries the canonical URL, and
    the rest of the datasets stay usable. Without `source`, nothing is seeded and `get_file`
    downloads as it would on a student's machine.
    """
    datasets = keras_home / "datasets"
    if fresh and datasets.exists():
        shutil.rmtree(datasets)
    datasets.mkdir(parents=True, exist_ok=True)
    problems = []
    if not source.is_dir():
        return problems
    for offline in sorted(source.iterdir()):
        target = datasets / offline.name
        if target.exists() and target.stat().st_size == offline.stat().st_size:
            continue
        try:
            check_archive(offline)
        except CorruptDatasetError as error:
            problems.append(f"skipped corrupt offline dataset: {error}")
            continue
        shutil.copyfile(offline, target)
    return problems


def use_keras_home(keras_home: Path, fresh: bool = False) -> list[str]:
    """Seed `keras_home` if offline copies exist; point this process (and its kernels) at it."""
    if not OFFLINE_DATASETS.is_dir():
        return []
    problems = seed_keras_home(keras_home, fresh=fresh)
    os.environ["KERAS_HOME"] = str(keras_home)
    return problems
