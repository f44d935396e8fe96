"""Seed a Keras cache from the offline copies in ../shared/data, where `get_file` finds them.

Notebooks never know about this: they call `get_file` with the canonical URL, which looks in
`$KERAS_HOME/datasets/` before it downloads anything.
"""

import os
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

from course_tools import ROOT

OFFLINE_DATASETS = ROOT.parent / "shared" / "data" / "keras-cache" / "datasets"
#: Archives that the notebooks and tests extract themselves, once, and then only read (the
#: others go through `get_file(..., extract=True)`, which writes them again at every call).
EXTRACTED_ONCE = ("aclImdb_v1.tar.gz",)
#: Where the test suite keeps those archives extracted between runs, like the virtual environments.
TEST_DATA = ROOT / "_build" / "test-data"


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
    keras_home: Path,
    source: Path = OFFLINE_DATASETS,
    fresh: bool = False,
    checked: bool = False,
) -> list[str]:
    """Copy the offline datasets into `keras_home/datasets` and return one message per skipped file.

    A corrupt file is reported and skipped, not copied: `get_file` then tries the canonical URL, and
    the rest of the datasets stay usable. Without `source`, nothing is seeded and `get_file`
    downloads as it would on a student's machine. `checked`: `source` holds copies that this
    function made and checked already (reading IMDB's archive to its end takes 3 s).
    """
    datasets = keras_home / "datasets"
    if fresh and datasets.exists():
        shutil.rmtree(datasets)
    datasets.mkdir(parents=True, exist_ok=True)
    problems = []
    if not source.is_dir():
        return problems
    for offline in sorted(source.iterdir()):
        if not offline.is_file():  # an extracted folder, or its link
            continue
        target = datasets / offline.name
        if target.exists() and target.stat().st_size == offline.stat().st_size:
            continue
        try:
            if not checked:
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


def extracted_folder(archive: Path) -> Path:
    """Where `get_file(name, ..., extract=True)` of Keras 3 puts the archive's files."""
    return archive.parent / f"{archive.name[: archive.name.find('.')]}_extracted"


def extract_once(archive: Path, folder: Path | None = None) -> Path:
    """Extract an archive (tar or zip) into `folder` (by default where Keras 3 would put it),
    unless it is there already, and return the folder.

    The notebooks extract IMDB themselves, once, and later runs find the folder; this does the
    same for the test suite and the grader. GNU tar takes 4 to 20 s for IMDB's 100,000 files
    where Python's tarfile takes 40, so it is used when the machine has it. The folder appears
    whole or not at all (extracted beside it, then renamed), so a reader never sees half of it.
    """
    folder = folder or extracted_folder(archive)
    if folder.is_dir():
        return folder
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(partial)
        elif shutil.which("tar"):
            subprocess.run(
                ["tar", "-xf", str(archive), "-C", str(partial), "--no-same-owner"],
                check=True,
                capture_output=True,
            )
        else:
            with tarfile.open(archive) as tar:
                tar.extractall(partial, filter="data")
        try:
            partial.rename(folder)
        except OSError:
            # Another process extracted it first: use theirs.
            if not folder.is_dir():
                raise
    except (
        OSError,
        subprocess.CalledProcessError,
        tarfile.TarError,
        zipfile.BadZipFile,
    ) as error:
        detail = getattr(error, "stderr", b"") or b""
        raise CorruptDatasetError(
            f"{archive}: could not be extracted ({error} {detail.decode(errors='replace')})"
        ) from error
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return folder


def extracted_for_tests(archive: Path, root: Path = TEST_DATA) -> Path:
    """The test suite's extracted copy of `archive`, made on first use and kept: under a folder
    named for the archive's size, so that another copy of the dataset gets its own."""
    key = f"{archive.name}-{archive.stat().st_size}"
    return extract_once(archive, root / key / extracted_folder(archive).name)


if __name__ == "__main__":  # `make test` extracts while it builds the environments
    for name in EXTRACTED_ONCE:
        if (OFFLINE_DATASETS / name).is_file():
            print(f"extracted {extracted_for_tests(OFFLINE_DATASETS / name)}")
