"""Who said each utterance of a one-microphone recording: ``clerk``, ``citizen`` or ``uncertain``.

Evidence, combined into one score per utterance (positive = clerk):

* **voice** — GE2E embeddings (:mod:`coach.speaker.embed`).  With a clerk profile (enrolment)
  the score is the cosine to the profile after centring the recording's embeddings on their
  mean (which cancels the room and the microphone), blended with the raw cosine (which still
  means something when the recording holds one voice only) and with a profile-guided split of
  the recording in two (its threshold moves with the recording, so noise that lowers every
  cosine alike does not turn the clerk into the citizen).  Without a profile
  (:func:`_cluster_attribution`) the recording is split in two voices (average-linkage clustering),
  :func:`role_evidence` says which is the clerk — courtesies of the clerk's stages and brush-offs
  in its words, complaints about waiting in the other's, who opens, who talks more, who is louder
  — and when it does not decide (``ROLE_MARGIN``) every utterance is ``uncertain``; a piece is the
  clerk's only if it sounds like the clerk's other pieces (``CLERK_LIKENESS``).
* **words** — the role in the text: courtesies of the clerk's stages (请问您办什么业务, 请稍等,
  请慢走 …) argue for the clerk, complaints about waiting for the citizen (``Matcher.find``);
* **level** — the clerk sits nearer the microphone: louder than the recording's median;
* **turn-taking** — a short piece right after another (under ``JOIN_GAP_S``) usually continues
  the same speaker.

Segments shorter than ``MIN_RELIABLE_S`` carry little voice evidence: the score leans on the
cues, and whatever stays between ``-margin`` and ``+margin`` is ``uncertain``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coach.speaker.embed import SAMPLE_RATE, embed_many

# Calibrated on DEV sessions D01-D05 and real speakers (see benchmarks/bench_speaker.py).
MIN_RELIABLE_S = 1.0        # below this the voice evidence is down-weighted
RAW_CENTRE = 0.66           # raw cosine to the profile that is neither clerk nor citizen
RAW_WEIGHT = 0.5            # weight of the raw cosine next to the centred one
WORD_WEIGHT = 0.10          # per clerk-stage courtesy (capped at 2)
LEVEL_WEIGHT = 0.02         # per dB above the recording's median level (capped at ±6 dB)
JOIN_GAP_S = 0.25           # pieces this close continue the same speaker
MARGIN = 0.05               # |score| below this -> uncertain
SAME_VOICE_COS = 0.86       # two clusters this alike are one voice
GUIDED_WEIGHT = 0.3         # share of the profile-guided clustering score (robust to noise) in the voice score
GUIDED_ALPHA = 0.5          # guided score: raw cosine between the clusters' means vs. nearer centroid
ONE_VOICE_GAP = 0.05        # clusters whose mean cosine to the profile differ less are one voice
# Without a profile: which of the two voices is the clerk (role evidence, :func:`role_evidence`).
BRUSH_WEIGHT = 0.5          # per brush-off (up to 2 an utterance; a clerk-stage courtesy counts 1)
OPENS_WEIGHT = 0.3          # the voice that opens the visit
TALK_WEIGHT = 1.0           # per share of the talking time above half
LEVEL_ROLE_WEIGHT = 0.1     # per dB louder than the recording's median (capped at ±6 dB)
ROLE_MARGIN = 1.0           # evidence needed to name a group the clerk; below: everything uncertain
ROLE_RIVAL = 0.5            # ... and the other group's evidence at most this share of the clerk group's
PATTERN_CUE = 0.5           # a clerk-stage courtesy matched by a pattern (a listed wording: 1)
OPENER_WEIGHT = 0.5         # an asking courtesy in the first two lines (the clerk opens: 请问您办什么业务)
OPENER_LINES = 2            # the opening of a visit: its first lines (the citizen may speak first)
CLUSTER_MARGIN = 0.25       # |score| below this -> uncertain (voice membership ±1 for a typical piece)
CLERK_LIKENESS = 0.66       # raw cosine to the clerk group's other pieces needed to be called the clerk

# Courtesy stages only the clerk uses; greetings and thanks are said by both sides.
CLERK_STAGES = {"asking", "waiting", "apology", "referral", "completion", "farewell", "feedback",
                "praise_reply", "phone"}
SHARED_STAGES = {"greeting", "thanks"}
# The stage that opens a visit (来有迎声: 您好，请问您办什么业务) — asked by the clerk, not the citizen.
OPENING_STAGES = {"asking"}


@dataclass(frozen=True)
class Piece:
    """One utterance to attribute: its audio and what the words say about the speaker."""

    samples: np.ndarray
    start: float | None = None
    end: float | None = None
    words: float = 0.0          # role cue from the text: > 0 clerk-like, < 0 citizen-like
    seconds: float | None = None    # kept instead of the samples (live history)
    level: float | None = None
    brush: float = 0.0          # brush-offs in the text: the clerk's vocabulary, used only to tell
                                # which voice is the clerk (never to attribute this one utterance)
    asks: bool = False          # holds a courtesy of an opening stage (请问您办什么业务): at the
                                # opening of a visit, the clerk's (:func:`role_evidence`)

    @property
    def duration(self) -> float:
        return self.seconds if self.seconds is not None else len(self.samples) / SAMPLE_RATE

    @property
    def level_db(self) -> float:
        return self.level if self.level is not None else active_level_db(self.samples)

    def summary(self) -> "Piece":
        """The same piece without its audio (duration and level kept)."""
        return Piece(np.zeros(0, np.float32), self.start, self.end, self.words, self.duration, self.level_db,
                     self.brush, self.asks)


@dataclass(frozen=True)
class Attribution:
    speaker: str                # clerk | citizen | uncertain
    score: float                # > 0 clerk, < 0 citizen; |score| = confidence
    reason: str                 # why (Chinese, shown with uncertain findings)


UNDECIDED_REASON = "没有登记窗口的声音，分不清两个声音哪个是窗口"


def uncertain_reason(duration: float | None, score: float | None) -> str:
    """Why a speaker is uncertain, in words for the trainee (a score of exactly 0: the recording
    was not decided at all — see :func:`attribute`)."""
    if score == 0.0:
        return UNDECIDED_REASON
    if duration is not None and duration < MIN_RELIABLE_S:
        return f"这句只有 {duration:.1f} 秒，听不出是谁说的"
    return "声音分不清是窗口还是群众" + (f"，得分 {score:+.2f}" if score is not None else "")


def active_level_db(samples: np.ndarray) -> float:
    """Level of the loudest half of 20 ms frames (speech, not the pauses), dBFS."""
    n = len(samples) // 320
    if n == 0:
        return -100.0
    energy = np.mean(np.square(samples[: n * 320].reshape(n, 320), dtype=np.float64), axis=1)
    top = np.sort(energy)[n // 2:]
    return float(10 * np.log10(max(float(top.mean()), 1e-10)))


def word_cue(hits, complaint: bool = False) -> float:
    """Role evidence from the matcher's hits of one utterance (``Matcher.find``), by how surely only
    the clerk says it: a listed wording of a clerk's stage 1, the same stage matched by a pattern
    (an open shape: 给您…证 is also the citizen handing over papers) ``PATTERN_CUE``, a near miss of
    a clerk's stage or a greeting / thanks 0.3; capped at 2; a complaint about waiting −1 (the
    citizen's)."""
    cue = 0.0
    for h in hits:
        stage = getattr(h.entry, "stage", None)
        if h.kind == "courtesy":
            weight = 1.0 if stage in CLERK_STAGES else 0.3 if stage in SHARED_STAGES else 0.0
            if stage in CLERK_STAGES and getattr(h, "via", "").startswith("pattern"):
                weight = PATTERN_CUE
            cue += weight
        elif h.kind == "near_miss" and stage in CLERK_STAGES:
            cue += 0.3
    cue = min(cue, 2.0)
    return cue - 1.0 if complaint else cue


def text_cues(evaluator, text: str) -> tuple[float, float, bool]:
    """Role cues of one utterance's text, with an evaluator's matchers: (:func:`word_cue`, the number
    of brush-offs in it, capped at 2, whether it holds a courtesy of an opening stage)."""
    hits = evaluator.matcher.find(text)
    return (word_cue(hits, bool(evaluator.complaints.find(text))),
            float(min(2, sum(h.kind == "brush_off" for h in hits))),
            any(h.kind == "courtesy" and getattr(h.entry, "stage", None) in OPENING_STAGES for h in hits))


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, 1e-9)


def _weights(pieces: list[Piece]) -> np.ndarray:
    return np.array([min(p.duration, 4.0) / 4.0 for p in pieces])


def voice_scores(emb: np.ndarray, profile: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-utterance voice evidence for the profile's speaker (> 0 = same voice)."""
    raw = (emb @ _unit(profile) - RAW_CENTRE) / (1 - RAW_CENTRE)
    if len(emb) < 2:  # nothing to centre on yet (the first utterance of a live session)
        return raw
    mean = (emb * weights[:, None]).sum(0) / max(weights.sum(), 1e-9)
    centred = _unit(emb - mean) @ _unit(profile - mean)
    return (1 - RAW_WEIGHT) * centred + RAW_WEIGHT * raw


def guided_scores(emb: np.ndarray, profile: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Voice evidence from clustering the recording in two, the cluster nearer the profile being
    the clerk: the threshold moves with the recording (noise lowers every cosine alike)."""
    raw = emb @ _unit(profile)
    labels = two_clusters(emb, weights)
    if labels.min() == labels.max():
        return (raw - RAW_CENTRE) / (1 - RAW_CENTRE)
    means = [float((raw[labels == k] * weights[labels == k]).sum() / max(weights[labels == k].sum(), 1e-9))
             for k in (0, 1)]
    kc = int(np.argmax(means))
    hi, lo = means[kc], means[1 - kc]
    if hi - lo < ONE_VOICE_GAP:  # both clusters alike to the profile: one voice, nothing to split
        return (raw - RAW_CENTRE) / (1 - RAW_CENTRE)
    cents = [_unit((emb[labels == k] * weights[labels == k, None]).sum(0)) for k in (0, 1)]
    nearer = emb @ cents[kc] - emb @ cents[1 - kc]
    return GUIDED_ALPHA * (raw - (hi + lo) / 2) / (hi - lo) + (1 - GUIDED_ALPHA) * nearer / (np.abs(nearer).max() + 1e-9)


def two_clusters(emb: np.ndarray, weights: np.ndarray, iterations: int = 20) -> np.ndarray:
    """Labels 0/1 from 2-means on centred embeddings (started from the first principal axis)."""
    x = _unit(emb - (emb * weights[:, None]).sum(0) / max(weights.sum(), 1e-9))
    if len(x) < 2:
        return np.zeros(len(x), int)
    _, _, vt = np.linalg.svd(x * np.sqrt(weights)[:, None], full_matrices=False)
    labels = (x @ vt[0] > 0).astype(int)
    for _ in range(iterations):
        if labels.min() == labels.max():
            break
        cents = np.stack([_unit((x[labels == k] * weights[labels == k, None]).sum(0)) for k in (0, 1)])
        new = np.argmax(x @ cents.T, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
    return labels


def agglomerate_two(emb: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Labels 0/1 from average-linkage agglomerative clustering of the centred embeddings (cosine),
    merged down to two groups.  Measured on real speakers (bench_speaker.py): groups pieces right
    more often than 2-means (0.93 vs 0.91 clean, 0.92 vs 0.90 with babble at 10 dB)."""
    n = len(emb)
    if n < 2:
        return np.zeros(n, int)
    x = _unit(emb - (emb * weights[:, None]).sum(0) / max(weights.sum(), 1e-9))
    sim = (x @ x.T).astype(np.float64)
    np.fill_diagonal(sim, -np.inf)
    size = np.ones(n)
    alive = np.ones(n, bool)
    label = np.arange(n)
    for _ in range(n - 2):
        a, b = np.unravel_index(int(np.argmax(sim)), sim.shape)
        merged = (size[a] * sim[a] + size[b] * sim[b]) / (size[a] + size[b])
        sim[a], sim[:, a] = merged, merged
        sim[a, a] = -np.inf
        sim[b], sim[:, b] = -np.inf, -np.inf
        size[a] += size[b]
        alive[b] = False
        label[label == b] = a
    first = np.flatnonzero(alive)[0]
    return (label != first).astype(int)


@dataclass(frozen=True)
class Split:
    """A recording split in two voices, and which of them is the clerk (no profile)."""

    labels: np.ndarray          # 0/1 per piece
    clerk: int                  # the clerk's label
    evidence: float             # role evidence for that choice over the other (>= 0)
    one_voice: bool             # the two groups are one voice: nothing to tell apart
    rival: float = 0.0          # the other group's role evidence

    @property
    def decided(self) -> bool:
        """Enough role evidence to name the clerk: one courtesy's worth more than the other voice
        (``ROLE_MARGIN``), and the other voice's at most ``ROLE_RIVAL`` of the clerk's — where both
        voices say the clerk's courtesies the split did not separate the roles (turns the recogniser
        joined, a noisy split)."""
        return self.evidence >= ROLE_MARGIN and self.rival <= ROLE_RIVAL * (self.rival + self.evidence)


def role_evidence(pieces: list[Piece], labels: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Evidence per group that it is the clerk, from cues that need no model: the role in the words
    (courtesies of the clerk's stages, brush-offs — the clerk's vocabulary either way — and, for the
    citizen, complaints about waiting), the order of the visit (who opens it, who asks 请问您办什么业务
    in its first lines), who talks more, and who is nearer the microphone (louder).  Comparable
    between the groups, not an absolute scale."""
    evidence = np.zeros(2)
    seconds = np.array([p.duration for p in pieces])
    for k in (0, 1):
        idx = np.flatnonzero(labels == k)
        if len(idx) == 0:
            evidence[k] = -9.0
            continue
        evidence[k] += sum(pieces[i].words for i in idx)
        evidence[k] += BRUSH_WEIGHT * sum(pieces[i].brush for i in idx)
        evidence[k] += LEVEL_ROLE_WEIGHT * float(np.clip(np.median(levels[idx]) - np.median(levels), -6, 6))
        evidence[k] += TALK_WEIGHT * (seconds[idx].sum() / max(seconds.sum(), 1e-9) - 0.5)
    evidence[labels[0]] += OPENS_WEIGHT      # the clerk usually opens the visit (来有迎声)
    for i in range(min(OPENER_LINES, len(pieces))):
        if pieces[i].asks:                   # and asks what the citizen came for
            evidence[labels[i]] += OPENER_WEIGHT
    return evidence


def split_voices(pieces: list[Piece], emb: np.ndarray, weights: np.ndarray, levels: np.ndarray) -> Split:
    """Two-speaker clustering of one recording, and which group is the clerk."""
    labels = agglomerate_two(emb, weights)
    if labels.min() == labels.max():
        return Split(labels, int(labels[0]), 0.0, True)
    cents = np.stack([_unit(emb[labels == k].mean(0)) for k in (0, 1)])
    one_voice = float(cents[0] @ cents[1]) > SAME_VOICE_COS
    evidence = role_evidence(pieces, labels, levels)
    k = int(np.argmax(evidence))
    return Split(labels, k, float(evidence[k] - evidence[1 - k]), one_voice, float(evidence[1 - k]))


def membership(emb: np.ndarray, labels: np.ndarray, weights: np.ndarray, clerk: int) -> np.ndarray:
    """Per piece, how much nearer the clerk's group than the other's (centred embeddings; each
    piece left out of its own group's centre, which would otherwise flatter it in a small
    group), scaled so that a typical long piece is about ±1."""
    mean = (emb * weights[:, None]).sum(0) / max(weights.sum(), 1e-9)
    x = _unit(emb - mean)
    sums = [(x[labels == k] * weights[labels == k, None]).sum(0) for k in (0, 1)]
    m = np.zeros(len(x))
    for i in range(len(x)):
        own = [sums[k] - (x[i] * weights[i] if labels[i] == k else 0.0) for k in (0, 1)]
        m[i] = x[i] @ _unit(own[clerk]) - x[i] @ _unit(own[1 - clerk])
    long_ = weights >= 1.5 / 4     # pieces of 1.5 s and more (see _weights)
    scale = float(np.median(np.abs(m[long_]))) if long_.any() else float(np.median(np.abs(m)))
    return m / max(scale, 1e-6)


def _cluster_attribution(pieces: list[Piece], emb: np.ndarray, weights: np.ndarray,
                         levels: np.ndarray) -> list[Attribution] | None:
    """Attribution without a profile of a recording of two pieces or more."""
    split = split_voices(pieces, emb, weights, levels)
    if split.one_voice:
        # One voice: the clerk alone, unless the words say citizen; a piece that does not sound like
        # the others (a second voice with too few lines to form a group) stays uncertain.
        said = sum(p.words for p in pieces) + BRUSH_WEIGHT * sum(p.brush for p in pieces)
        if said < 0:
            return [Attribution("uncertain", 0.0, UNDECIDED_REASON) for _ in pieces]
        near = clerk_likeness(emb, np.zeros(len(pieces), int), weights, 0)
        return [Attribution("clerk", 1.0, "录音中只有一个声音") if near[i] >= CLERK_LIKENESS or len(pieces) < 3
                else Attribution("uncertain", 0.001, uncertain_reason(p.duration, 0.001)) for i, p in enumerate(pieces)]
    if not split.decided:
        # Two voices, but nothing says which one is the clerk: show everything as possibly the clerk.
        return [Attribution("uncertain", 0.0, UNDECIDED_REASON) for _ in pieces]
    confidence = min(1.0, split.evidence / (2 * ROLE_MARGIN))
    voice = np.clip(membership(emb, split.labels, weights, split.clerk), -1.5, 1.5)
    # A piece under MIN_RELIABLE_S has too little voice to go by: it follows a neighbour it is glued
    # to (turn-taking), else it is uncertain.
    scores = np.array([voice[i] if p.duration >= MIN_RELIABLE_S else 0.0 for i, p in enumerate(pieces)])
    scores = confidence * _follow_neighbours(pieces, scores)
    scores += WORD_WEIGHT * np.clip([p.words for p in pieces], -2, 2)
    out = _decide(pieces, scores, CLUSTER_MARGIN, "聚类")
    # Clerk only when the piece sounds like the clerk's other pieces (raw cosine to their centre,
    # itself left out): a voice the clustering lumped in with the clerk's stays uncertain.
    near = clerk_likeness(emb, split.labels, weights, split.clerk)
    return [Attribution("uncertain", a.score, uncertain_reason(p.duration, a.score))
            if a.speaker == "clerk" and near[i] < CLERK_LIKENESS else a for i, (a, p) in enumerate(zip(out, pieces))]


def clerk_likeness(emb: np.ndarray, labels: np.ndarray, weights: np.ndarray, clerk: int) -> np.ndarray:
    """Raw cosine of each piece to the centre of the clerk group's other pieces."""
    member = labels == clerk
    total = (emb[member] * weights[member, None]).sum(0)
    out = np.zeros(len(emb))
    for i in range(len(emb)):
        rest = total - (emb[i] * weights[i] if member[i] else 0.0)
        out[i] = float(emb[i] @ _unit(rest)) if np.linalg.norm(rest) > 1e-9 else 0.0
    return out


def _follow_neighbours(pieces: list[Piece], scores: np.ndarray) -> np.ndarray:
    """Turn-taking: a short piece glued to a reliable neighbour (gap under ``JOIN_GAP_S``) leans
    toward the neighbour's speaker."""
    out = scores.copy()
    for i, p in enumerate(pieces):
        if p.duration >= MIN_RELIABLE_S or p.start is None:
            continue
        for j in (i - 1, i + 1):
            if 0 <= j < len(pieces) and pieces[j].start is not None and pieces[j].end is not None:
                gap = p.start - pieces[j].end if j < i else pieces[j].start - (p.end or p.start)
                if 0 <= gap <= JOIN_GAP_S and pieces[j].duration >= MIN_RELIABLE_S:
                    out[i] += 0.5 * scores[j]
    return out


def _decide(pieces: list[Piece], scores: np.ndarray, margin: float, how: str) -> list[Attribution]:
    out = []
    for i, p in enumerate(pieces):
        s = round(float(scores[i]), 3) or 0.001   # exactly 0 means "recording not decided"
        if abs(s) < margin:
            out.append(Attribution("uncertain", s, uncertain_reason(p.duration, s)))
        else:
            out.append(Attribution("clerk" if s > 0 else "citizen", round(s, 3), how))
    return out


def attribute(pieces: list[Piece], profile: np.ndarray | None = None, *,
              embeddings: np.ndarray | None = None) -> list[Attribution]:
    """Attribute every piece of one recording (in time order)."""
    if not pieces:
        return []
    emb = embeddings if embeddings is not None else embed_many([p.samples for p in pieces])
    weights = _weights(pieces)
    levels = np.array([p.level_db for p in pieces])
    if profile is None:
        if len(pieces) < 2:  # one utterance: nothing to tell apart, judged as the clerk's
            return [Attribution("clerk", 1.0, "录音中只有一个声音") for _ in pieces]
        return _cluster_attribution(pieces, emb, weights, levels)
    profile = np.asarray(profile, np.float32)
    voice = voice_scores(emb, profile, weights)
    if len(emb) >= 2:
        voice = (1 - GUIDED_WEIGHT) * voice + GUIDED_WEIGHT * guided_scores(emb, profile, weights)
    median_level = float(np.median(levels))
    scores = []
    for i, p in enumerate(pieces):
        trust = min(1.0, p.duration / MIN_RELIABLE_S) ** 2
        s = trust * voice[i]
        s += WORD_WEIGHT * float(np.clip(p.words, -2, 2))
        s += LEVEL_WEIGHT * float(np.clip(levels[i] - median_level, -6, 6))
        scores.append(s)
    return _decide(pieces, _follow_neighbours(pieces, np.array(scores)), MARGIN, "声纹")
