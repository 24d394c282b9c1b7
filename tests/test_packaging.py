"""The licence and the package metadata a scientific Python package carries (the wheel and
sdist themselves are built, installed in a clean venv and run by `make dist` in CI)."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_licence_is_the_full_apache_2_text() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    for clause in ("1. Definitions.", "3. Grant of Patent License.", "9. Accepting Warranty"):
        assert clause in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_package_metadata_is_complete() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
    assert project["authors"] and project["keywords"]
    classifiers = project["classifiers"]
    assert "Typing :: Typed" in classifiers
    assert any(c.startswith("Topic :: Scientific/Engineering") for c in classifiers)
    assert {"dev", "app", "browser", "docs"} <= set(project["optional-dependencies"])


def test_readme_cites_only_files_in_the_repository() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "SCIENCE.md" not in readme
    for name in ("LICENSE", "docs/model.md", "mkdocs.yml"):
        assert (ROOT / name).exists(), name
