"""MiniLM sentence embeddings through ONNX Runtime with int8 weights: the "onnx" embedding backend.

The ONNX file is made here, once, from the locally shipped model folder (no hub download):
torch.onnx.export of the transformer, ONNX Runtime's BERT graph fusions, then dynamic int8
quantisation. The result is cached under a folder named after a hash of the model's files, so a
changed model gets a fresh export. Queries then need only onnxruntime, tokenizers and numpy.

Output matches SentenceTransformer.encode for this model: mean pooling over real tokens, then
L2 normalisation; texts are cut at the model's max_seq_length (256 word pieces).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_EXPORT_VERSION = "3"  # bump when the export recipe changes, so old cached files are not reused


def default_cache_dir() -> Path:
    """Where the export is cached unless Settings.onnx_cache says otherwise."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "policy-assistant" / "onnx"


class OnnxMiniLM:
    """Drop-in for the part of SentenceTransformer that Embedder uses: ``encode(texts, ...)``."""

    def __init__(self, model_path: str | Path, cache_dir: str | Path | None = None,
                 threads: int | None = None, precision: str = "int8"):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_path = Path(model_path)
        self.max_length = _max_seq_length(self.model_path)
        self.dimension = int(json.loads((self.model_path / "config.json").read_text(encoding="utf-8"))
                             .get("hidden_size", 384))
        self.onnx_path = quantized_model(self.model_path, Path(cache_dir) if cache_dir else None, precision)
        self.variant = export_variant(self.onnx_path.parent)
        self.tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
        # tokenizer.json ships fixed 128-token padding and truncation; the model's own limit is
        # max_seq_length, and padding to the longest text in a batch is cheaper.
        self.tokenizer.enable_truncation(max_length=self.max_length)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(self.onnx_path), options, providers=["CPUExecutionProvider"])
        self._input_names = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: list[str] | str, batch_size: int = 1, normalize_embeddings: bool = True,
               show_progress_bar: bool = False, convert_to_numpy: bool = True) -> np.ndarray:
        """Vectors in the order of ``texts``, float32 of shape (n, dimension), or (dimension,) for one string.
        ``show_progress_bar`` and ``convert_to_numpy`` are accepted for compatibility; the
        result is always a numpy array.

        The int8 model runs one text at a time unless asked otherwise: dynamic quantisation scales
        activations over the whole run, so in a batch a text's vector depends on its neighbours (mean
        cosine 0.995 to the same text alone). Alone, a vector depends on its text only (a question
        and a passage are embedded alike; an answer does not depend on what was asked before), and it
        is also the fastest here: 111-120 chunks/s against 95-97 in batches of 8."""
        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Batches of similar length waste less work on padding (what SentenceTransformer does too).
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), max(1, batch_size)):
            index = order[start:start + batch_size]
            out[index] = self._embed([texts[i] for i in index])
        if normalize_embeddings:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out = out / np.maximum(norms, 1e-12)
        return out[0] if single else out

    def _embed(self, batch: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(batch)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {k: v for k, v in feeds.items() if k in self._input_names})[0]
        weights = mask[:, :, None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


def _max_seq_length(model_path: Path) -> int:
    config = model_path / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text(encoding="utf-8")).get("max_seq_length", 256))
    return 256


def model_hash(model_path: Path) -> str:
    """Content hash of the files that define the model (weights, config, tokenizer)."""
    digest = hashlib.sha256(_EXPORT_VERSION.encode())
    for path in sorted(p for p in model_path.rglob("*") if p.is_file() and not p.name.startswith(".")):
        if path.suffix.lower() in (".md", ".txt") and path.name != "vocab.txt":
            continue
        digest.update(str(path.relative_to(model_path)).encode())
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def quantized_model(model_path: Path, cache_dir: Path | None = None, precision: str = "int8") -> Path:
    """Path of the ONNX file for this model ("int8", or the fused "fp32" it is made from),
    exporting both first if they are not cached."""
    folder = (cache_dir or default_cache_dir()) / model_hash(model_path)
    targets = {"int8": folder / "model-int8.onnx", "fp32": folder / "model-fp32.onnx"}
    if precision not in targets:
        raise ValueError(f"precision must be int8 or fp32, not {precision!r}")
    if all(t.is_file() for t in targets.values()):
        return targets[precision]
    folder.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock

    # Two processes starting together: one exports, the other waits and reuses its files.
    with FileLock(str(folder / "export.lock")):
        if not all(t.is_file() for t in targets.values()):
            _export(model_path, targets["fp32"], targets["int8"])
    return targets[precision]


VARIANT_FILE = "variant.txt"


def export_variant(folder: Path) -> str:
    """ "fused" (ONNX Runtime's BERT fusions applied) or "unfused" (this onnxruntime could not fuse
    the graph, so the plain export was quantised): the two give slightly different vectors, so the
    index records which one it was built with. Caches from before this file existed were fused."""
    marker = folder / VARIANT_FILE
    return marker.read_text(encoding="utf-8").strip() if marker.is_file() else "fused"


def _export(model_path: Path, fp32_target: Path, int8_target: Path) -> None:
    try:
        from onnx import TensorProto
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ImportError(f"the onnx embedding backend needs the onnx and onnxruntime packages "
                          f"(pip install onnx onnxruntime), or set POLICY_ASSISTANT_EMBEDDING_BACKEND=torch: "
                          f"{exc}") from exc

    config = json.loads((model_path / "config.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(dir=fp32_target.parent) as work:
        plain, fused, int8 = (Path(work) / name for name in ("plain.onnx", "fused.onnx", "int8.onnx"))
        _export_fp32(model_path, plain)
        source = _fuse(plain, fused, config)
        # Measured against torch on 150 council-duty chunks and the dev questions: per-tensor int8
        # gives mean cosine 0.96 (min 0.93); per-channel scales 0.992 (min 0.978); also keeping
        # the feed-forward down-projections in fp32 (their input is the long-tailed GELU output,
        # which per-tensor activation quantisation handles worst) 0.996 (min 0.986).
        # Fused nodes live in ONNX Runtime's own domain, where shape inference cannot type them,
        # hence DefaultTensorType.
        quantize_dynamic(str(source), str(int8), weight_type=QuantType.QInt8, per_channel=True,
                         nodes_to_exclude=_after_gelu(source),
                         extra_options={"DefaultTensorType": TensorProto.FLOAT})
        (fp32_target.parent / VARIANT_FILE).write_text("fused" if source == fused else "unfused", encoding="utf-8")
        os.replace(source, fp32_target)  # atomic: readers never see half a file
        os.replace(int8, int8_target)


def _export_fp32(model_path: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel

    # Eager attention traces into plain ONNX ops with the padding mask applied; the SDPA path can
    # drop the mask while tracing an all-ones example.
    model = AutoModel.from_pretrained(str(model_path), attn_implementation="eager", local_files_only=True)
    model.eval()

    class LastHidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    # An example batch with padding, so the traced graph keeps the mask arithmetic.
    ids = torch.tensor([[101, 2023, 2003, 1037, 3231, 102], [101, 2460, 102, 0, 0, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    dynamic = {name: {0: "batch", 1: "tokens"} for name in _INPUTS}
    dynamic["last_hidden_state"] = {0: "batch", 1: "tokens"}
    # The tracer warns about shape checks that are constant for this encoder-only model.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(LastHidden(model), (ids, mask, torch.zeros_like(ids)), str(out), dynamo=False,
                          input_names=list(_INPUTS), output_names=["last_hidden_state"],
                          dynamic_axes=dynamic, opset_version=17, do_constant_folding=True)


def _after_gelu(path: Path) -> list[str]:
    """Names of the MatMul nodes that read a GELU output (the feed-forward down-projections)."""
    import onnx

    graph = onnx.load(str(path)).graph
    gelu_outputs = {out for node in graph.node if "Gelu" in node.op_type for out in node.output}
    return [node.name for node in graph.node
            if node.op_type == "MatMul" and any(i in gelu_outputs for i in node.input)]


def _fuse(fp32: Path, out: Path, config: dict) -> Path:
    """ONNX Runtime's BERT fusions (attention, layer norm, GELU) make the int8 model faster.
    Falls back to the plain export if this onnxruntime cannot fuse it; the export records which
    (``export_variant``), and so does the index's model name."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        optimized = optimize_model(str(fp32), model_type="bert", num_heads=config["num_attention_heads"],
                                   hidden_size=config["hidden_size"], opt_level=1, use_gpu=False)
        optimized.save_model_to_file(str(out))
        return out
    except Exception:
        return fp32
