"""Turn a timeline of utterances into findings and a score: matcher -> rules -> result.

>>> from coach.session.evaluate import Evaluator
>>> result = Evaluator.default().evaluate([Utterance(0, 2, "clerk", "您好，请稍等")])

Who is charged: brush-offs, speaking rate and the whole-visit rules only for ``clerk`` (and
``unknown``: no attribution ran, judged as the clerk); courtesies are credited only to them.
An ``uncertain`` utterance's hits are shown as warnings (可能是窗口) with the reason, never scored.

``session=True`` applies the whole-visit rules (greeting, farewell, holds); ``False`` judges
the utterances as phrases only (``coach check "文本"``).
"""

from __future__ import annotations

from functools import lru_cache

from coach.matcher import fallback as _fallback
from coach.matcher.matcher import Hit, Matcher
from coach.rules import structure
from coach.phrasebook import Phrasebook, Scenario, load_phrasebook
from coach.rules.structure import Timed, TimedHit
from coach.schema import NOT_CLERK, Finding, Result, Utterance
from coach.speaker.attribute import uncertain_reason


def char_times(u: Utterance) -> list[tuple[float, float]] | None:
    """Start/end time of every character of ``u.text``: from word times where they line up
    with the text, else spread evenly over the utterance."""
    if u.start is None or u.end is None:
        return None
    n = len(u.text)
    if u.words:
        times: list[tuple[float, float]] = []
        pos = 0
        ok = True
        for w in u.words:
            piece = w.text.strip()
            if not piece:
                continue
            at = u.text.find(piece, pos)
            if at < 0:
                ok = False
                break
            times.extend([times[-1] if times else (w.start, w.start)] * (at - pos))
            step = (w.end - w.start) / max(len(piece), 1)
            times.extend((w.start + i * step, w.start + (i + 1) * step) for i in range(len(piece)))
            pos = at + len(piece)
        if ok:
            times.extend([times[-1] if times else (u.end, u.end)] * (n - pos))
            return times
    span = max(u.end - u.start, 0.0)
    return [(u.start + span * i / max(n, 1), u.start + span * (i + 1) / max(n, 1)) for i in range(n)]


def _severity(hit: Hit, speaker: str = "clerk") -> str:
    if speaker == "uncertain":  # shown as 可能是窗口, never scored
        return "warning" if hit.kind != "courtesy" else "info"
    if hit.kind == "brush_off":
        return hit.entry.severity
    return "warning" if hit.kind == "near_miss" else "info"


def charged_speaker(u: Utterance) -> str:
    """Who a finding in ``u`` is charged to: ``unknown`` is judged as the clerk."""
    return "clerk" if u.speaker == "unknown" else u.speaker


def hit_finding(hit: Hit, u: Utterance, index: int, times: list[tuple[float, float]] | None) -> Finding:
    """A finding of one matcher hit.  Who is charged: ``clerk`` (``unknown`` is judged as the clerk);
    a hit in an ``uncertain`` utterance keeps that speaker, is a warning and is not scored."""
    start = end = None
    if times and hit.end > hit.start:
        start, end = round(times[hit.start][0], 3), round(times[hit.end - 1][1], 3)
    speaker = charged_speaker(u)
    suggestion = hit.suggestion
    if speaker == "uncertain":
        span = u.end - u.start if u.start is not None and u.end is not None else None
        why = uncertain_reason(span, u.speaker_score)
        suggestion = f"可能是窗口（{why}，不计分）" + (f"：{suggestion}" if suggestion else "")
    return Finding(
        type="brush_off" if hit.kind == "brush_off" else "courtesy",
        rule="near_miss" if hit.kind == "near_miss" else hit.rule,
        phrase=hit.entry.phrase, heard=hit.heard, start=start, end=end, speaker=speaker,
        severity=_severity(hit, speaker), suggestion=suggestion, utterance=index, score=hit.score,
    )


def score(findings: list[Finding], pb: Phrasebook) -> tuple[float, dict]:
    """100 minus the phrasebook's penalties; the breakdown says where points went."""
    pen = pb.penalties
    lost: dict[str, float] = {}
    counts = {"courtesy": 0, "brush_off": 0, "near_miss": 0, "structure": 0}
    said: list[str] = []
    for f in findings:
        if f.speaker == "uncertain" or f.rule == _fallback.RULE:
            continue  # 可能是窗口 / a statistical guess: shown, neither credited nor charged
        if f.type == "courtesy" and f.rule != "near_miss":
            counts["courtesy"] += 1
            if f.phrase not in said:
                said.append(f.phrase)
            continue
        if f.rule == "near_miss":
            key, counts["near_miss"] = "near_miss", counts["near_miss"] + 1
        elif f.type == "brush_off":
            key, counts["brush_off"] = f"brush_off_{f.severity}", counts["brush_off"] + 1
        else:
            key, counts["structure"] = f.rule, counts["structure"] + 1
        lost[key] = lost.get(key, 0.0) + pen.get(key, 0.0)
    total = max(0.0, 100.0 - sum(lost.values()))
    return round(total, 1), {"base": 100, "penalties": lost, "counts": counts, "courtesies_said": said}


class Evaluator:
    """A phrasebook compiled once, applied to many sessions."""

    def __init__(self, phrasebook: Phrasebook, scenario: Scenario | None = None,
                 fallback: bool | None = None):
        """``fallback``: also report utterances the matcher found nothing in that the statistical
        fallback (``coach.matcher.fallback``) scores as likely brush-offs, as uncharged warnings;
        ``None`` = the shipped default (``fallback.ENABLED_BY_DEFAULT``)."""
        self.phrasebook = phrasebook
        self.fallback = _fallback.ENABLED_BY_DEFAULT if fallback is None else fallback
        extra = scenario.brush_offs if scenario else ()
        self.matcher = Matcher.from_phrasebook(phrasebook, extra)
        self.intents = Matcher(structure.entries_for(phrasebook.referral_intents, "intent", "referral"),
                               phrasebook.thresholds.match_score)
        self.complaints = Matcher(structure.entries_for(phrasebook.wait_complaints, "complaint", "wait"),
                                  phrasebook.thresholds.match_score)

    @classmethod
    def default(cls) -> "Evaluator":
        return _default_evaluator()

    def find(self, text: str) -> list:
        """The matcher's hits in one clerk utterance, brush-offs confirmed by the statistical
        model when the fallback is on (``coach.matcher.fallback.confirmed``)."""
        hits = self.matcher.find(text)
        if self.fallback and any(h.kind == "brush_off" for h in hits):
            hits, _ = _fallback.confirmed(hits, text, _fallback.default_model())
        return hits

    def timeline(self, utterances: list[Utterance]) -> tuple[list[Timed], list[Finding]]:
        timeline: list[Timed] = []
        findings: list[Finding] = []
        for i, u in enumerate(utterances):
            if u.speaker == "background":
                continue        # heard, shown, judged by nobody (coach.asr.vad); not in the turns either
            clerk = u.speaker != "citizen"
            times = char_times(u)
            hits = self.find(u.text) if clerk else []
            timed_hits = []
            for h in hits:
                f = hit_finding(h, u, i, times)
                findings.append(f)
                timed_hits.append(TimedHit(h, f.start, f.end))
            if clerk and not hits and self.fallback and u.text.strip():
                findings += self._fallback_finding(u, i)
            intents = self.intents.find(u.text) if clerk else []
            complaint = u.speaker != "clerk" and bool(self.complaints.find(u.text))
            timeline.append(Timed(i, u, timed_hits, intents, complaint))
        return timeline, findings

    def _fallback_finding(self, u: Utterance, index: int) -> list[Finding]:
        model = _fallback.default_model()      # read lazily, once
        if model is None:
            return []
        p = model.probability(u.text)
        if p < model.threshold:
            return []
        speaker = charged_speaker(u)
        return [Finding(type="brush_off", rule=_fallback.RULE, phrase=_fallback.PHRASE, heard=u.text,
                        start=u.start, end=u.end, speaker=speaker, severity="warning",
                        suggestion=_fallback.SUGGESTION, utterance=index, score=round(p, 3))]

    def evaluate(self, utterances: list[Utterance], *, session: bool = True, file: str | None = None,
                 engine: str | None = None, duration_s: float | None = None,
                 truncated: bool = False) -> Result:
        """``truncated``: the recording ends before the visit did (a cut-off file), so a farewell
        may have been said after it ends: no ``missing_farewell`` is charged."""
        pb = self.phrasebook
        timeline, findings = self.timeline(utterances)
        findings += structure.referrals(timeline, pb)
        findings += structure.speed(timeline, pb)
        if session:
            findings += [f for f in structure.greeting_and_farewell(timeline, pb)
                         if not (truncated and f.rule == "missing_farewell")]
            findings += structure.waits(timeline, pb)
        findings.sort(key=lambda f: (f.start if f.start is not None else float("inf"),
                                     f.utterance if f.utterance is not None else 1 << 30))
        total, breakdown = score(findings, pb)
        if duration_s is None:
            ends = [u.end for u in utterances if u.end is not None]
            duration_s = round(max(ends), 3) if ends else None
        if session and not any(u.speaker not in NOT_CLERK and u.text.strip() for u in utterances):
            # No clerk speech heard: no verdict (not 100/100 for silence, nor a missing-greeting penalty).
            findings = [f for f in findings if f.type != "structure"]
            return Result(utterances=utterances, findings=findings, score=None,
                          breakdown={**breakdown, "penalties": {}}, file=file, duration_s=duration_s,
                          engine=engine, outcome="no_speech", truncated=truncated)
        return Result(utterances=utterances, findings=findings, score=total, breakdown=breakdown,
                      file=file, duration_s=duration_s, engine=engine, truncated=truncated)


@lru_cache(maxsize=1)
def _default_evaluator() -> Evaluator:
    return Evaluator(load_phrasebook())


def canonical_hits(evaluator: Evaluator, text: str) -> tuple[set[str], set[str]]:
    """(courtesies, brush-offs) said in one clerk utterance, as canonical phrases."""
    hits = evaluator.find(text)
    return ({h.entry.phrase for h in hits if h.kind == "courtesy"},
            {h.entry.phrase for h in hits if h.kind == "brush_off"})


__all__ = ["Evaluator", "char_times", "canonical_hits", "score"]
