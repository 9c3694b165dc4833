"""The on-disk keyword index (issue 13): kept up from the store's change log, it holds exactly what
a fresh build of the same store holds; a second index (a replica) that follows the log from far
behind ends the same; searches running while files are added and removed never fail and never
return a removed document; filters resolve to chunk ids inside the index."""
from __future__ import annotations

import shutil
import threading

import pytest

import ingest
from assistant.search import HybridSearcher
from index.keywords import KeywordFilter, KeywordIndex, catch_up
from index.store import ChromaStore

from .conftest import LA_DUTIES, SEEDS, make_settings

pytestmark = pytest.mark.shared

DUTIES = sorted(LA_DUTIES.glob("*.md"))[:60]


def fresh_build(store: ChromaStore, folder) -> dict[str, str]:
    """A keyword index built from nothing over the store as it is now."""
    index = KeywordIndex(folder)
    assert catch_up(index, store)
    return index.contents(index.searcher())


def followed(index: KeywordIndex, store: ChromaStore) -> dict[str, str]:
    assert catch_up(index, store)
    return index.contents(index.searcher())


@pytest.fixture
def library(tmp_path, embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    for path in DUTIES[:40]:
        shutil.copy2(path, docs / path.name)
    settings = make_settings(tmp_path / "store")
    ingest.run([docs], settings, embedder=embedder)
    return docs, settings


def test_incremental_updates_match_a_fresh_build_exactly(library, embedder, tmp_path):
    docs, settings = library
    store = ChromaStore(settings)
    live = KeywordIndex(settings.keyword_path)  # kept up by each ingest
    first = live.generation

    for path in DUTIES[40:50]:  # added
        shutil.copy2(path, docs / path.name)
    changed = docs / DUTIES[0].name  # replaced
    changed.write_text(changed.read_text() + "\nA sentence about winter gritting of footways.\n")
    (docs / DUTIES[1].name).unlink()  # removed
    report = ingest.run([docs], settings, embedder=embedder)
    assert (report.added, report.updated, report.removed) == (10, 1, 1)
    ingest.remove([str(docs / DUTIES[2].name)], settings)

    assert live.generation == store.generation() > first
    entries = live.contents(live.searcher())
    assert entries == fresh_build(store, tmp_path / "fresh")
    assert len(entries) == store.count()
    assert not any(source in entries for source in (str(docs / DUTIES[1].name), str(docs / DUTIES[2].name)))


def test_a_replica_following_the_change_log_ends_identical_to_a_fresh_build(library, embedder, tmp_path):
    docs, settings = library
    store = ChromaStore(settings)
    replica = KeywordIndex(tmp_path / "replica")
    followed(replica, store)
    applied = replica.generation
    for step, path in enumerate(DUTIES[40:46]):  # six generations the replica does not see
        shutil.copy2(path, docs / path.name)
        if step == 3:
            (docs / DUTIES[5].name).unlink()
        ingest.run([docs], settings, embedder=embedder)
    assert store.generation() == applied + 6
    assert store.changes_between(applied, store.generation()) is not None  # it replays, not rebuilds
    assert followed(replica, store) == fresh_build(store, tmp_path / "fresh")
    assert replica.generation == store.generation()


def test_a_reset_store_makes_followers_rebuild(library, embedder, tmp_path):
    docs, settings = library
    store = ChromaStore(settings)
    replica = KeywordIndex(tmp_path / "replica")
    followed(replica, store)
    ingest.run([DUTIES[50]], settings, embedder=embedder, reindex=True)  # the log is gone with the old index
    assert store.changes_between(replica.generation, store.generation()) is None
    assert set(followed(replica, store)) == {cid for r in store.manifest().values() for cid in r.chunk_ids}


def test_a_killed_run_s_change_entry_is_carried_into_the_next_one(library, embedder):
    """begin_change writes ahead; a run killed before it published leaves its entry, and the next
    run's entry (same generation) keeps those files, so no follower misses them."""
    docs, settings = library
    store = ChromaStore(settings)
    generation = store.generation()
    store.begin_change(["/killed/run/file.md"])
    ingest.run([DUTIES[55]], settings, embedder=embedder)
    assert store.generation() == generation + 1
    assert set(store.changes_between(generation, generation + 1)) == {"/killed/run/file.md", str(DUTIES[55].resolve())}


def test_filters_resolve_to_chunk_ids_in_the_index(library, embedder):
    docs, settings = library
    index = KeywordIndex(settings.keyword_path)
    searcher = index.searcher()
    one = str(docs / DUTIES[3].name)
    store = ChromaStore(settings)
    owned = set(store.manifest()[one].chunk_ids)
    vector = embedder.encode_query("abandoned vehicles")

    def passing(where: KeywordFilter, limit: int):
        found = index.nearest(searcher, vector, where, k=limit, limit=limit)
        return None if found is None else [chunk_id for chunk_id, _ in found]

    assert set(passing(KeywordFilter(sources=(one,)), 1000)) == owned
    assert passing(KeywordFilter(sources=(one,)), len(owned) - 1) is None  # too many
    assert passing(KeywordFilter(sources=()), 1000) == []
    assert passing(KeywordFilter(date_from=19000101), 1000) == []  # none dated
    words = ["vehicl", "abandon"]
    hits = index.search(searcher, words, 50, KeywordFilter(sources=(one,)))
    assert hits and {chunk_id for chunk_id, _, _ in hits} <= owned


def test_searches_during_updates_never_fail_or_return_a_removed_document(tmp_path, embedder):
    settings = make_settings(tmp_path / "store")
    ingest.run([SEEDS], settings, embedder=embedder)
    store = ChromaStore(settings)
    searcher = HybridSearcher(store, embedder)
    searcher.warm_up()
    removed: set[str] = set()
    errors: list[BaseException] = []
    leaks: list[str] = []
    done = threading.Event()

    def ask_repeatedly():
        while not done.is_set():
            try:
                gone = set(removed)  # removed before this search began
                for hit in searcher.search("local authority duty to remove abandoned vehicles", 10):
                    if hit.source in gone:
                        leaks.append(hit.source)
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

    readers = [threading.Thread(target=ask_repeatedly) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for path in DUTIES[:12]:
            ingest.run([path], settings, embedder=embedder)
        for path in DUTIES[:12:2]:
            ingest.remove([str(path)], settings)
            removed.add(str(path))
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert not errors, errors[:3]
    assert not leaks, leaks[:3]
    final = {h.source for h in searcher.search("abandoned vehicles", 30)}
    assert final and not final & removed


@pytest.mark.parametrize("filter_ids_max", [50_000, 1], ids=["rows in the local index", "broad: Chroma's neighbours"])
def test_a_filtered_vector_search_finds_what_chromas_own_filter_finds(library, embedder, filter_ids_max):
    """A filter small enough is searched exactly over its rows in the local index; a broad one
    over Chroma's neighbours (then Chroma's filter). Either way: Chroma's own filtered answer."""
    from assistant.search import Filters

    docs, settings = library
    store = ChromaStore(settings)
    searcher = HybridSearcher(store, embedder, filter_ids_max=filter_ids_max)
    searcher.warm_up()
    names = [DUTIES[n].name for n in (3, 7, 11, 20, 33)]
    filters = Filters(sources=names)
    for question in ["abandoned vehicles", "allotments for residents", "a duty to publish information"]:
        vector = embedder.encode_query(question)
        got = searcher.search(question, 10, filters, mode="dense", query_vector=vector)
        chosen = [str(docs / n) for n in names]
        expected = store.query(vector, 10, {"source": {"$in": chosen}})
        assert [h.chunk_id for h in got] == [c.id for c in expected], question
        assert all(abs(h.similarity - (1 - c.distance)) < 0.01 for h, c in zip(got, expected))
        assert {h.source for h in got} <= set(chosen)


def test_a_removed_document_is_never_returned_by_a_replica_that_has_not_caught_up(library, embedder, tmp_path):
    """A replica whose keyword index cannot follow yet (another process holds its writer lock)
    still lists a removed file's chunks; the removal is published, so they are passed over."""
    docs, settings = library
    store = ChromaStore(settings)
    lagging = HybridSearcher(store, embedder, keywords=KeywordIndex(tmp_path / "replica"))
    lagging.warm_up()
    gone = str(docs / DUTIES[3].name)
    question = DUTIES[3].stem.replace("-", " ")
    assert lagging.search(question, 5)[0].source == gone
    with lagging.keywords.writer_lock():  # as if another process were bringing this index level
        ingest.remove([gone], settings)
        for mode in ("hybrid", "bm25", "dense"):
            hits = lagging.search(question, 5, mode=mode)
            assert hits and gone not in {h.source for h in hits}, mode
        assert lagging.keywords.generation < store.generation()  # it really had not caught up


def test_a_change_another_process_has_not_published_is_answered_from_the_index_as_it_was(library, embedder):
    """Mid-ingest (chunks deleted, the new ones not written, the generation not yet moved), the
    file's passages come from the keyword index's snapshot instead of vanishing."""
    docs, settings = library
    store = ChromaStore(settings)
    searcher = HybridSearcher(store, embedder)
    searcher.warm_up()
    changing = str(docs / DUTIES[3].name)
    question = DUTIES[3].stem.replace("-", " ")
    before = searcher.search(question, 5)
    assert before[0].source == changing
    store.delete_source(changing)  # the first writes of a run that has not published yet
    during = searcher.search(question, 5)
    assert [(h.chunk_id, h.text) for h in during] == [(h.chunk_id, h.text) for h in before]


def test_an_index_worn_by_many_changes_is_rebuilt_compact(library, embedder, monkeypatch):
    """Replaced vector rows stay in vectors.f16 until a rebuild; once they are as many as the live ones
    (past a slack, here none) the next catch-up rebuilds instead of replaying."""
    import index.keywords as keywords_module

    docs, settings = library
    store = ChromaStore(settings)
    live = KeywordIndex(settings.keyword_path)
    build = live.state()["build"]
    monkeypatch.setattr(keywords_module, "WORN_SLACK", 0)
    for revision in range(3):  # every file changed three times: the index wears past one replaced row a live one
        for path in docs.iterdir():
            path.write_text(path.read_text() + f"\nRevision {revision} of this duty.\n")
        ingest.run([docs], settings, embedder=embedder)
    state = live.state()
    assert state["build"] != build and state["generation"] == store.generation()
    snapshot = live.searcher()
    assert snapshot.vectors.stat().st_size // (2 * snapshot.dim) == snapshot.num_docs == store.count()
    assert live.contents(snapshot) == fresh_build(store, settings.store.parent / "fresh")
