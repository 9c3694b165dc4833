"""Uploads from the maintainer page: safe names, allowed types, size limit, indexed and removable."""
from __future__ import annotations

import pytest

from ingest.uploads import (UploadRejected, check_upload, is_upload, remove_document, safe_name, save_upload,
                            save_uploads, uploads_folder)

from .conftest import SEEDS, make_settings


@pytest.mark.parametrize("name, expected", [
    ("report.pdf", "report.pdf"),
    ("Annual Report (2024).PDF", "Annual Report (2024).pdf"),
    ("../../etc/passwd.md", "passwd.md"),
    ("..\\..\\windows\\system32\\evil.txt", "evil.txt"),
    ("/abs/path/notes.html", "notes.html"),
    ("a<script>alert(1)</script>.html", "script.html"),
    ("a<b>c:d*e?.html", "a-b-c-d-e.html"),
    ("..", "upload"),
    ("...md", "upload.md"),
    ("nul\x00byte.txt", "nulbyte.txt"),
    ("  spaced  .txt", "spaced.txt"),
    ("x.p df", "x.p df"),
])
def test_safe_name_keeps_only_a_plain_last_component(name, expected):
    assert safe_name(name) == expected


def test_safe_name_never_leaves_the_folder_whatever_the_name(tmp_path):
    settings = make_settings(tmp_path / "store")
    folder = uploads_folder(settings).resolve()
    for name in ["../x.md", "../../x.md", "/etc/x.md", "a/../../x.md", "~/x.md", "C:\\x.md", ".../x.md",
                 "%2e%2e%2fx.md", "x.md/", "\u202e.md"]:
        try:
            path = save_upload(name, b"# Title\n\nSome text about pooled budgets.", settings)
        except UploadRejected:
            continue
        assert path.parent == folder, (name, path)
        assert not path.name.startswith(".")
    assert {p.parent for p in (tmp_path / "store").rglob("*") if p.is_file()} <= {folder}


def test_types_and_size_are_checked(tmp_path):
    settings = make_settings(tmp_path / "store", max_upload_mb=0.001)  # about 1 KB
    with pytest.raises(UploadRejected, match="cannot be indexed"):
        check_upload("program.exe", 10, settings)
    with pytest.raises(UploadRejected, match="cannot be indexed"):
        check_upload("no-extension", 10, settings)
    with pytest.raises(UploadRejected, match="empty"):
        check_upload("empty.txt", 0, settings)
    with pytest.raises(UploadRejected, match="upload limit"):
        check_upload("big.txt", 2048, settings)
    assert check_upload("small.TXT", 100, settings) == "small.txt"


def test_save_uploads_reports_each_rejection_and_saves_the_rest(tmp_path):
    settings = make_settings(tmp_path / "store")
    result = save_uploads([("good.md", b"# Good\n\ntext"), ("bad.exe", b"MZ"), ("empty.txt", b"")], settings)
    assert [p.name for p in result.saved] == ["good.md"]
    assert [r["name"] for r in result.rejected] == ["bad.exe", "empty.txt"]
    assert all(r["error"] for r in result.rejected)
    # No temporary files left behind.
    assert sorted(p.name for p in uploads_folder(settings).iterdir()) == ["good.md"]


def test_same_name_replaces_the_earlier_upload(tmp_path):
    settings = make_settings(tmp_path / "store")
    first = save_upload("note.txt", b"first version", settings)
    second = save_upload("note.txt", b"second version", settings)
    assert first == second and second.read_bytes() == b"second version"


@pytest.mark.shared
def test_uploaded_file_is_indexed_and_removal_deletes_it(tmp_path, embedder):
    import ingest

    settings = make_settings(tmp_path / "store")
    seed = sorted(SEEDS.glob("*.txt"))[0]
    saved = save_upload(seed.name, seed.read_bytes(), settings)
    report = ingest.run([uploads_folder(settings)], settings, embedder=embedder)
    assert report.added == 1 and not report.failed
    manifest = ingest.ChromaStore(settings).manifest()
    assert str(saved) in manifest and is_upload(str(saved), settings)

    assert remove_document(str(saved), settings) == 1
    assert not saved.exists()
    store = ingest.ChromaStore(settings)
    assert store.manifest() == {} and store.count() == 0


@pytest.mark.shared
def test_removing_a_corpus_document_leaves_the_file(tmp_path, embedder, copy_of):
    import ingest

    settings = make_settings(tmp_path / "store")
    corpus = copy_of(sorted(SEEDS.glob("*.txt"))[0], folder="corpus")
    ingest.run([corpus], settings, embedder=embedder)
    (source,) = ingest.ChromaStore(settings).manifest()
    assert not is_upload(source, settings)
    assert remove_document(source, settings) == 1
    assert ingest.ChromaStore(settings).manifest() == {}
    assert (corpus / sorted(SEEDS.glob("*.txt"))[0].name).exists()
