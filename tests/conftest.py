"""Real fixtures: the shipped MiniLM model, real Chroma stores, the real shared documents."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
NHS_PDFS = SHARED / "datasets" / "nhs-policy-pdfs"
BAD_INPUTS = SHARED / "datasets" / "bad-inputs"
LA_DUTIES = SHARED / "datasets" / "la-duties"
CORPUS = ROOT / "corpus"
DEV_SET = ROOT / "eval" / "dev.jsonl"


def pytest_collection_modifyitems(config, items):
    if not SHARED.exists():
        if os.environ.get("CI"):
            # In CI a missing ../shared is a broken checkout, not a reason to skip most of the suite.
            raise pytest.UsageError(f"{SHARED} is missing: CI runs the tests with ../shared beside the project")
        skip = pytest.mark.skip(reason="../shared test data is not beside the project")
        for item in items:
            if "shared" in item.keywords:
                item.add_marker(skip)


def make_settings(store: Path, **overrides):
    from index.settings import Settings

    return Settings(store=store, **overrides)


@pytest.fixture(scope="session")
def embedder():
    """One loaded model, of the default backend, for the whole session (loading is the slow part)."""
    from index.embedding import Embedder
    from index.settings import Settings

    defaults = Settings()
    model = Embedder.from_settings(defaults)
    model.warm_up()
    return model


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path / "store")


@pytest.fixture
def copy_of(tmp_path):
    """Copy shared files into a writable folder: tests that touch or delete files work on copies."""
    def copy(*paths: Path, folder: str = "docs") -> Path:
        target = tmp_path / folder
        target.mkdir(parents=True, exist_ok=True)
        for path in paths:
            shutil.copy2(path, target / path.name)
        return target
    return copy


def _ingested_store(tmp_path_factory, embedder, name: str, folders: list[Path]):
    import ingest

    settings = make_settings(tmp_path_factory.mktemp(name))
    report = ingest.run(folders, settings, embedder=embedder)
    assert not report.failed, report.failed
    return settings


@pytest.fixture(scope="session")
def policy_store(tmp_path_factory, embedder):
    """The seed articles and the NHS PDFs/DOCX ingested once into a real embedded Chroma store."""
    return _ingested_store(tmp_path_factory, embedder, "policy-store", [SEEDS, NHS_PDFS])


@pytest.fixture(scope="session")
def library_store(tmp_path_factory, embedder):
    """The default corpus (seeds + integration guidance) and the NHS PDFs/DOCX: the library the
    integration question sets are scored on."""
    return _ingested_store(tmp_path_factory, embedder, "library-store", [CORPUS, NHS_PDFS])


@pytest.fixture(scope="session")
def library_assistant(library_store, embedder):
    from assistant import Assistant

    helper = Assistant(settings=library_store, embedder=embedder)
    helper.warm_up()
    return helper


@pytest.fixture(scope="session")
def assistant(policy_store, embedder):
    from assistant import Assistant

    helper = Assistant(settings=policy_store, embedder=embedder)
    helper.warm_up()
    return helper
