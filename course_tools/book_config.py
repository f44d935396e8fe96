"""Read `_config.yml`, the single source of truth for the repository's URL and branch."""

from dataclasses import dataclass
from pathlib import Path

import yaml

from course_tools import ROOT

COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


@dataclass(frozen=True)
class Repository:
    url: str
    branch: str
    path_to_book: str

    @property
    def github_slug(self) -> str:
        """`owner/name` of a GitHub URL such as https://github.com/owner/name."""
        prefix = "https://github.com/"
        if not self.url.startswith(prefix):
            raise ValueError(
                f"_config.yml: repository.url must start with {prefix}, got {self.url!r}"
            )
        return self.url[len(prefix) :].strip("/")

    def colab_url(self, notebook: Path) -> str:
        """The Colab address that opens `notebook` (a path inside the repository) from GitHub."""
        rel = notebook.resolve().relative_to(ROOT).as_posix()
        return f"https://colab.research.google.com/github/{self.github_slug}/blob/{self.branch}/{rel}"

    def colab_badge(self, notebook: Path) -> str:
        return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({self.colab_url(notebook)})"


def load_repository(config_path: Path = ROOT / "_config.yml") -> Repository:
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    repo = config.get("repository") or {}
    missing = [key for key in ("url", "branch") if not repo.get(key)]
    if missing:
        raise ValueError(
            f"{config_path}: repository.{', repository.'.join(missing)} must be set"
        )
    return Repository(
        url=repo["url"].rstrip("/"),
        branch=repo["branch"],
        path_to_book=repo.get("path_to_book", ""),
    )
