"""Uploads from the maintainer page: safe names, allowed types, size limit, indexed and removable."""
from __future__ import annotations

import pytest

import index

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
    manifest = index.ChromaStore(settings).manifest()
    assert str(saved) in manifest and is_upload(str(saved), settings)

    assert remove_document(str(saved), settings) == 1
    assert not saved.exists()
    store = index.ChromaStore(settings)
    assert store.manifest() == {} and store.count() == 0


@pytest.mark.shared
def test_removing_a_corpus_document_leaves_the_file(tmp_path, embedder, copy_of):
    import ingest

    settings = make_settings(tmp_path / "store")
    corpus = copy_of(sorted(SEEDS.glob("*.txt"))[0], folder="corpus")
    ingest.run([corpus], settings, embedder=embedder)
    (source,) = index.ChromaStore(settings).manifest()
    assert not is_upload(source, settings)
    assert remove_document(source, settings) == 1
    assert index.ChromaStore(settings).manifest() == {}
    assert (corpus / sorted(SEEDS.glob("*.txt"))[0].name).exists()


def test_names_in_other_scripts_or_with_accents_stay_distinct(tmp_path):
    names = ["预算.txt", "计划.txt", "santé.md", "santè.md", "sante.md"]
    saved = {safe_name(n) for n in names}
    assert len(saved) == len(names), saved
    assert safe_name("santé.md").startswith("sante-") and safe_name("sante.md") == "sante.md"
    assert safe_name("预算.txt") == safe_name("预算.txt")  # the same name always lands in the same file


def test_a_batch_never_overwrites_its_own_files(tmp_path):
    settings = make_settings(tmp_path / "store")
    result = save_uploads([("预算.txt", b"Budget text one."), ("计划.txt", b"Plan text two."),
                           ("notes.txt", b"first"), ("notes.TXT", b"second")], settings)
    assert len(result.saved) == 3
    (rejected,) = result.rejected
    assert rejected["name"] == "notes.TXT" and "like 'notes.txt' in this upload" in rejected["error"]
    assert sorted(p.read_bytes() for p in result.saved) == [b"Budget text one.", b"Plan text two.", b"first"]


def test_uploading_a_name_again_is_reported_as_a_replacement(tmp_path):
    settings = make_settings(tmp_path / "store")
    save_uploads([("policy.md", b"# Policy\n\nversion one")], settings)
    again = save_uploads([("policy.md", b"# Policy\n\nversion two")], settings)
    assert [p.name for p in again.replaced] == ["policy.md"]


def test_an_upload_that_failed_to_index_can_be_removed(tmp_path):
    from ingest.uploads import unindexed_uploads

    settings = make_settings(tmp_path / "store")
    (saved,) = save_uploads([("broken.pdf", b"not a pdf at all")], settings).saved
    assert unindexed_uploads(settings, indexed=set()) == [saved]
    assert remove_document(str(saved), settings) == 1
    assert not saved.exists() and unindexed_uploads(settings, indexed=set()) == []
