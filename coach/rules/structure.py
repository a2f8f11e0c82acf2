"""Session rules over a timeline: greeting, farewell, holds, apologies, referrals, speed.

Input is the timeline of utterances with the matcher's hits already placed on it
(:class:`Timed`).  Every rule charges the clerk only: utterances marked ``citizen`` are
read for context (a complaint about waiting) but never produce a finding against them, and
``uncertain`` ones (speaker attribution could not decide) never cost the clerk anything: their
courtesies still count as said for greeting, farewell, hold announcement and apology.  What none of
the lines that may be the clerk's holds is missing whoever spoke: a greeting or farewell where every
line is uncertain, an apology after a wait that none of the lines that may be the clerk's first
answer holds (:func:`_first_answer`).
Rule ids are stable: ``missing_greeting``, ``missing_farewell``, ``unannounced_hold``,
``no_apology_after_wait``, ``referral_without_place``, ``too_fast``.
"""

from __future__ import annotations

from dataclasses import dataclass

from coach.matcher.matcher import Hit
from coach.phrasebook.normalize import is_han, normalize, sound_text
from coach.phrasebook import Entry, Phrasebook
from coach.schema import Finding, Utterance

GREETING_STAGES = {"greeting"}
FAREWELL_STAGES = {"farewell"}
FAREWELL_IDS = {"thanks.cooperation"}  # 谢谢您的配合 closes a visit too (seed 003: 走有送声)
WAITING_STAGES = {"waiting"}
APOLOGY_STAGES = {"apology"}


@dataclass
class TimedHit:
    hit: Hit
    start: float | None
    end: float | None


@dataclass
class Timed:
    """One utterance with its hits (times in seconds where known)."""

    index: int
    utterance: Utterance
    hits: list[TimedHit]
    intents: list[Hit]      # referral wordings (not findings by themselves)
    complaint: bool         # a complaint about waiting (citizen or unknown speaker)

    @property
    def is_clerk(self) -> bool:
        """Charged and credited as the clerk (``unknown``: no attribution ran, judged as the clerk)."""
        return self.utterance.speaker in ("clerk", "unknown")

    @property
    def may_be_clerk(self) -> bool:
        """Possibly the clerk (``uncertain`` too): its courtesies spare the clerk a charge, never cost one."""
        return self.utterance.speaker != "citizen"

    def has_stage(self, stages: set[str], ids: set[str] = frozenset()) -> bool:
        return any(h.hit.kind == "courtesy" and (h.hit.entry.stage in stages or h.hit.entry.id in ids)
                   for h in self.hits)


def _finding(rule: str, t: Timed | None, *, phrase: str | None, suggestion: str, severity: str = "violation",
             start: float | None = None, end: float | None = None, heard: str | None = None) -> Finding:
    u = t.utterance if t else None
    return Finding(
        type="structure", rule=rule, phrase=phrase, heard=heard,
        start=start if start is not None else (u.start if u else None),
        end=end if end is not None else (u.end if u else None),
        speaker="clerk", severity=severity, suggestion=suggestion,
        utterance=t.index if t else None,
    )


def _timed(timeline: list[Timed]) -> bool:
    return all(t.utterance.start is not None and t.utterance.end is not None for t in timeline)


def greeting_and_farewell(timeline: list[Timed], pb: Phrasebook) -> list[Finding]:
    """来有迎声、走有送声.  When no line is surely the clerk's but some may be (attribution could not
    tell the two voices apart), the clerk is among those: if none of them greets near the start or
    says goodbye near the end, the clerk did not either.  The windows then run from the second of
    them / to the last but one (the clerk's first or last line may be either)."""
    maybe = [t for t in timeline if t.may_be_clerk]
    clerk = [t for t in timeline if t.is_clerk]
    undecided = not clerk
    if undecided:
        clerk = maybe
    if not clerk:
        return []
    th = pb.thresholds
    out = []
    first, last = clerk[0], clerk[-1]
    if _timed(clerk):
        t0 = clerk[1 if undecided and len(clerk) > 1 else 0].utterance.start
        t1 = clerk[-2 if undecided and len(clerk) > 1 else -1].utterance.end
        greeted = any(h.start is not None and h.start <= t0 + th.greeting_window_s
                      and h.hit.kind == "courtesy" and h.hit.entry.stage in GREETING_STAGES
                      for t in maybe for h in t.hits)
        farewelled = any(h.end is not None and h.end >= t1 - th.farewell_window_s and h.hit.kind == "courtesy"
                         and (h.hit.entry.stage in FAREWELL_STAGES or h.hit.entry.id in FAREWELL_IDS)
                         for t in maybe for h in t.hits)
    else:
        greeted = first.has_stage(GREETING_STAGES)
        farewelled = last.has_stage(FAREWELL_STAGES, FAREWELL_IDS)
    if not greeted:
        out.append(_finding("missing_greeting", first, phrase="您好",
                            suggestion="来有迎声：开口先说“您好，请问您要办什么业务？”"))
    if not farewelled:
        out.append(_finding("missing_farewell", last, phrase="请慢走",
                            suggestion="走有送声：结束时说“请慢走”或“再见”"))
    return out


def _holds(timeline: list[Timed], pb: Phrasebook) -> list[tuple[float, float, int]]:
    """Silences longer than ``hold_s``: (start, end, position in time order of what follows)."""
    if not _timed(timeline) or len(timeline) < 2:
        return []
    ordered = sorted(timeline, key=lambda t: t.utterance.start)
    out = []
    prev_end = ordered[0].utterance.end
    for k in range(1, len(ordered)):
        gap_start, gap_end = prev_end, ordered[k].utterance.start
        prev_end = max(prev_end, ordered[k].utterance.end)
        if gap_end - gap_start > pb.thresholds.hold_s:
            out.append((gap_start, gap_end, k))
    return out


def _first_answer(ordered: list[Timed], k: int, stop: int) -> list[Timed]:
    """The lines that may be the clerk's first answer from position ``k`` on: the possibly-clerk
    ones up to the first surely-clerk line, that one included.  Where no line at all is surely the
    clerk's (attribution undecided), the possibly-clerk lines before ``stop`` (the next hold), if at
    least two: with two voices taking turns the clerk is among them.  Empty when the clerk may not
    have answered."""
    out = []
    for t in ordered[k:]:
        if t.may_be_clerk:
            out.append(t)
            if t.is_clerk:
                return out
    if any(t.is_clerk for t in ordered):
        return []        # the known clerk said nothing more: the uncertain lines may all be the citizen's
    out = [t for t in ordered[k:stop] if t.may_be_clerk]
    return out if len(out) >= 2 else []


def _due_at(answer: list[Timed]) -> int:
    """The line a missing apology is shown on: the clerk's, where known, else the first that may be it."""
    return answer[-1].index if answer[-1].is_clerk else answer[0].index


def waits(timeline: list[Timed], pb: Phrasebook) -> list[Finding]:
    """Holds must be announced (请稍等) before, and apologised for after; so must complaints.  The
    apology is due in the clerk's first answer; where attribution could not tell which line that is,
    it is missing when none of the lines that may be it holds one (:func:`_first_answer`)."""
    th = pb.thresholds
    ordered = sorted(timeline, key=lambda t: t.utterance.start) if _timed(timeline) else timeline
    out: list[Finding] = []
    apology_due: dict[int, tuple[str, list[Timed]]] = {}
    holds = _holds(timeline, pb)
    starts = [k for _, _, k in holds]

    def stop_after(k: int) -> int:   # answers to a wait end where the next hold begins
        return next((s for s in starts if s > k), len(ordered))

    for gap_start, gap_end, k in holds:
        announced = any(
            t.may_be_clerk and gap_start - th.announce_lookback_s <= t.utterance.end <= gap_start + 0.05
            and t.has_stage(WAITING_STAGES)
            for t in ordered[:k])
        if not announced:
            out.append(_finding("unannounced_hold", None, phrase="请稍等", start=gap_start, end=gap_end,
                                suggestion=f"让群众等待（{gap_end - gap_start:.0f} 秒）之前先说“请稍等”"))
        answer = _first_answer(ordered, k, stop_after(k))
        if answer:
            apology_due.setdefault(_due_at(answer), (f"等待 {gap_end - gap_start:.0f} 秒之后", answer))
    for k, t in enumerate(ordered):
        if t.complaint:
            answer = _first_answer(ordered, k + 1, stop_after(k))
            if answer:
                apology_due.setdefault(_due_at(answer), ("群众抱怨等待之后", answer))
    by_index = {t.index: t for t in timeline}
    for idx, (why, answer) in sorted(apology_due.items()):
        if not any(t.has_stage(APOLOGY_STAGES) for t in answer):
            out.append(_finding("no_apology_after_wait", by_index[idx], phrase="让您久等了",
                                suggestion=f"{why}先致歉：“不好意思，让您久等了”"))
    return out


def referrals(timeline: list[Timed], pb: Phrasebook) -> list[Finding]:
    """首问负责: a turn that sends the citizen elsewhere must name the exact place."""
    out = []
    for t in timeline:
        if not t.is_clerk:
            continue
        refers = [h.hit for h in t.hits if h.hit.kind == "brush_off" and h.hit.entry.refers] + t.intents
        if not refers:
            continue
        text = normalize(t.utterance.text).chars
        sounds = sound_text(text)
        if any(p.search(text, sounds) for p in pb.referral_places):
            continue
        out.append(_finding("referral_without_place", t, phrase="请您到X号窗口办理", heard=refers[0].heard,
                            suggestion="首问负责：说明具体去处，如“这项业务请您到3号窗口办理”"))
    return out


def speed(timeline: list[Timed], pb: Phrasebook) -> list[Finding]:
    th = pb.thresholds
    out = []
    for t in timeline:
        u = t.utterance
        if not t.is_clerk or u.start is None or u.end is None or u.end <= u.start:
            continue
        n = sum(1 for c in normalize(u.text).chars if is_han(c))
        if n < th.min_chars_for_rate:
            continue
        cpm = n / ((u.end - u.start) / 60.0)
        if cpm > th.max_chars_per_minute:
            out.append(_finding("too_fast", t, phrase=None, heard=u.text, severity="warning",
                                suggestion=f"语速约 {cpm:.0f} 字/分钟，请放慢到 {th.max_chars_per_minute:.0f} 字/分钟以内"))
    return out


def entries_for(texts: tuple[str, ...], kind: str, prefix: str) -> list[Entry]:
    """Plain wordings (intents, complaints) as matcher entries."""
    return [Entry(id=f"{prefix}.{i}", kind=kind, phrase=w) for i, w in enumerate(texts)]
