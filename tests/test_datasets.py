"""Archives are extracted once, where Keras 3's `get_file(..., extract=True)` would put them, whole
or not at all; a broken archive is one readable error that leaves nothing behind. A Keras cache is
seeded with the offline copies that read to their end, and a message for each that does not."""

import io
import tarfile
import zipfile

import pytest

from course_tools.datasets import (
    CorruptDatasetError,
    extract_once,
    extracted_folder,
    seed_keras_home,
)


def tar_archive(path, files):
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_a_tar_archive_is_extracted_once_where_keras_puts_it(tmp_path):
    archive = tar_archive(
        tmp_path / "reviews_v1.tar.gz", {"reviews/train/pos/1.txt": "good"}
    )
    folder = extract_once(archive)
    assert folder == tmp_path / "reviews_v1_extracted" == extracted_folder(archive)
    review = folder / "reviews/train/pos/1.txt"
    assert review.read_text() == "good"
    review.write_text("kept")  # a second call finds the folder and extracts nothing
    assert extract_once(archive) == folder and review.read_text() == "kept"


def test_a_zip_archive_is_extracted_too(tmp_path):
    archive = tmp_path / "weather.csv.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("weather.csv", "t\n1.5\n")
    assert (extract_once(archive) / "weather.csv").read_text() == "t\n1.5\n"


def test_a_broken_archive_is_named_and_leaves_nothing(tmp_path):
    archive = tmp_path / "broken.tar.gz"
    archive.write_bytes(b"not an archive")
    with pytest.raises(
        CorruptDatasetError, match="broken.tar.gz: could not be extracted"
    ):
        extract_once(archive)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.tar.gz"]


def test_a_corrupt_offline_copy_is_named_and_the_rest_seeded(tmp_path):
    offline = tmp_path / "offline"
    offline.mkdir()
    tar_archive(offline / "reviews_v1.tar.gz", {"reviews/1.txt": "good"})
    (offline / "weather.csv.zip").write_bytes(b"PK\x03\x04 cut short")
    (offline / "words.json").write_text("{}")
    problems = seed_keras_home(tmp_path / "keras", source=offline)
    assert (
        len(problems) == 1 and "weather.csv.zip: not a readable archive" in problems[0]
    )
    seeded = sorted(p.name for p in (tmp_path / "keras" / "datasets").iterdir())
    assert seeded == ["reviews_v1.tar.gz", "words.json"]


def test_a_checked_cache_seeds_another_without_reading_it_again(tmp_path, monkeypatch):
    first = tmp_path / "first"
    offline = tmp_path / "offline"
    offline.mkdir()
    tar_archive(offline / "reviews_v1.tar.gz", {"reviews/1.txt": "good"})
    assert seed_keras_home(first, source=offline) == []
    extract_once(first / "datasets" / "reviews_v1.tar.gz")  # a folder beside it

    def read_again(path):
        raise AssertionError(f"{path} was read again")

    monkeypatch.setattr("course_tools.datasets.check_archive", read_again)
    second = tmp_path / "second"
    assert seed_keras_home(second, source=first / "datasets", checked=True) == []
    assert [p.name for p in (second / "datasets").iterdir()] == ["reviews_v1.tar.gz"]
