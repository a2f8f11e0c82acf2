"""Vosk (Kaldi) streaming engine: low-latency partials for live mode.

A ``KaldiRecognizer`` with word times (``SetWords``) is fed 16-bit PCM; ``PartialResult``
becomes :class:`~coach.asr.base.Partial`, each ``Result`` (Vosk's own endpointing) a
:class:`~coach.asr.base.Final` with word timings.  ``grammar`` (optional) restricts recognition
to a phrase list — only for models with a runtime graph (``graph/HCLr.fst`` + ``Gr.fst``,
the "small" models); off by default because it forces every utterance onto the list.
Chinese output has Vosk's spaces between words removed; other languages keep them.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from coach.asr.base import Engine, Event, Final, Partial
from coach.audio.decode import SAMPLE_RATE
from coach.errors import ModelError
from coach.schema import Speaker, Utterance, Word

_MODELS: dict[str, object] = {}
_LOCK = threading.Lock()
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff])\s+(?=[\u3400-\u9fff\uf900-\ufaff])")


def load_model(path: str | Path):
    """A cached ``vosk.Model`` (one per process and path)."""
    key = str(Path(path).resolve())
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            import vosk

            vosk.SetLogLevel(-1)
            try:
                model = vosk.Model(key)
            except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
                raise ModelError(f"无法加载 Vosk 模型：{path}（{exc}）",
                                 hint=f"检查模型文件夹是否完整；重新安装：coach models install 模型zip") from exc
            _MODELS[key] = model
        return model


def to_pcm16(block: np.ndarray) -> bytes:
    return (np.clip(block, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


class VoskEngine(Engine):
    name = "vosk"

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        model: str = "vosk-small-cn",
        hotwords: Sequence[str] | None = None,
        grammar: Sequence[str] | None = None,
        language: str | None = None,
    ):
        super().__init__(model=model, hotwords=hotwords)
        if model_path is None:
            from coach.asr.models import ensure

            model_path = ensure(model)
        self.model_path = Path(model_path)
        self.vosk_model = load_model(model_path)
        self.grammar = list(grammar) if grammar else None
        if language is None:
            from coach.asr.models import REGISTRY

            spec = REGISTRY.get(model)
            language = spec.language if spec else "zh"
        self.language = language

    def recognizer(self):
        import vosk

        if self.grammar:
            rec = vosk.KaldiRecognizer(self.vosk_model, SAMPLE_RATE, json.dumps(self.grammar + ["[unk]"], ensure_ascii=False))
        else:
            rec = vosk.KaldiRecognizer(self.vosk_model, SAMPLE_RATE)
        rec.SetWords(True)
        try:
            rec.SetPartialWords(True)
        except AttributeError:  # older vosk
            pass
        return rec

    # ------------------------------------------------------------ public API
    def transcribe(
        self, chunks: Iterable[np.ndarray], *, speaker: Speaker = "unknown", offset: float = 0.0
    ) -> Iterator[Utterance]:
        for event in self._run(chunks, speaker, offset, partials=False):
            if isinstance(event, Final):
                yield event.utterance

    def stream(self, source: Iterable[np.ndarray], *, speaker: Speaker = "unknown") -> Iterator[Event]:
        yield from self._run(source, speaker, 0.0, partials=True)

    # ------------------------------------------------------------ internals
    def _run(self, chunks, speaker: Speaker, offset: float, *, partials: bool) -> Iterator[Event]:
        rec = self.recognizer()
        fed = 0
        last_partial = ""
        for chunk in chunks:
            fed += len(chunk)
            if rec.AcceptWaveform(to_pcm16(chunk)):
                u = self._utterance(json.loads(rec.Result()), speaker, offset, fed)
                last_partial = ""
                if u:
                    yield Final(u)
            elif partials:
                p = json.loads(rec.PartialResult())
                text = self._join(p.get("partial", ""))
                if text and text != last_partial:
                    last_partial = text
                    words = p.get("partial_result") or []
                    start = offset + float(words[0]["start"]) if words else offset + fed / SAMPLE_RATE
                    yield Partial(text, round(start, 2), speaker, round(offset + fed / SAMPLE_RATE, 2))
        u = self._utterance(json.loads(rec.FinalResult()), speaker, offset, fed)
        if u:
            yield Final(u)

    def _join(self, text: str) -> str:
        text = text.strip()
        return _CJK_SPACE.sub("", text) if self.language in ("zh", "ja") else text

    def _utterance(self, res: dict, speaker: Speaker, offset: float, fed: int) -> Utterance | None:
        text = self._join(res.get("text", ""))
        if not text:
            return None
        words = [Word(round(offset + float(w["start"]), 2), round(offset + float(w["end"]), 2), w["word"])
                 for w in res.get("result", []) if w.get("word") and w["word"] != "[unk]"]
        if words:
            start, end = words[0].start, words[-1].end
        else:
            start = end = round(offset + fed / SAMPLE_RATE, 2)
        return Utterance(start, end, speaker, text, words or None)
