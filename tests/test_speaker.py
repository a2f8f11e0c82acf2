"""Speaker attribution on one microphone: profiles, attribution on real mixes, charging rules."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from shared import dev_dir, real_dir
from coach.audio.decode import read
from coach.cli import main
from coach.errors import InputError
from coach.schema import Utterance
from coach.session.evaluate import Evaluator
from coach.session.live import LiveSession, SessionMeta
from coach.speaker.apply import attribute_utterances, cut_segments
from coach.speaker.profile import enrol, list_profiles, load_profile, profile_path, save_profile

SR = 16000


def labels(sid: str) -> dict:
    return json.loads((dev_dir() / f"{sid}.json").read_text("utf-8"))


def clerk_audio(sid: str, seconds: float = 12.0) -> np.ndarray:
    """The clerk's own channel of a dev session (as an enrolment would hear the clerk alone)."""
    s = labels(sid)
    left = read(dev_dir() / f"{sid}.stereo.wav", channels="both")[0]
    clips, got = [], 0.0
    for u in s["utterances"]:
        if u["speaker"] == "clerk" and got < seconds:
            clips.append(left[int(u["start"] * SR):int(u["end"] * SR)])
            got += u["end"] - u["start"]
    return np.concatenate(clips)


def voice_audio(voice: str, not_sid: str) -> np.ndarray:
    """A voice's speech from other dev sessions (its own channel there)."""
    clips = []
    for p in sorted(dev_dir().glob("D*.json")):
        s = json.loads(p.read_text("utf-8"))
        if s["id"] == not_sid:
            continue
        both = read(dev_dir() / s["files"]["stereo"], channels="both")
        for u in s["utterances"]:
            if u["voice"] == voice:
                ch = 0 if u["speaker"] == "clerk" else 1
                clips.append(both[ch][int(u["start"] * SR):int(u["end"] * SR)])
    return np.concatenate(clips)


def label_utterances(sid: str) -> list[Utterance]:
    return [Utterance(u["start"], u["end"], "unknown", u["text"]) for u in labels(sid)["utterances"]]


# ------------------------------------------------------------------ profiles

def test_enrol_save_load_several_trainees():
    pod_f = read(real_dir() / "pod_f_enhanced.wav")
    pod_m = read(real_dir() / "pod_m_enhanced.wav")
    a, b = enrol(pod_f, "张三"), enrol(pod_m, "李四")
    save_profile(a)
    save_profile(b)
    got = load_profile("张三")
    assert got is not None and got.trainee == "张三" and 10 <= got.speech_s <= 30
    np.testing.assert_allclose(got.embedding, a.embedding, atol=1e-5)
    assert [p.trainee for p in list_profiles()] == ["张三", "李四"]
    assert load_profile("王五") is None
    assert float(a.embedding @ b.embedding) < 0.8  # two different voices
    assert not list(profile_path("张三").parent.glob(".*"))  # no temp file left behind


def test_enrol_refuses_too_little_speech():
    with pytest.raises(InputError, match="至少需要 10 秒"):
        enrol(read(real_dir() / "BAC009S0764W0121.wav"), "x")


def test_enroll_cli_reads_a_file_and_reports_bad_input(tmp_path, capsys):
    clip = tmp_path / "clerk.wav"
    sf.write(clip, clerk_audio("D10", 15.0), SR)
    assert main(["enroll", "--trainee", "赵六", "--input", str(clip)]) == 0
    assert "赵六" in capsys.readouterr().out
    assert load_profile("赵六") is not None
    short = tmp_path / "short.wav"
    sf.write(short, read(real_dir() / "chinese.wav"), SR)
    assert main(["enroll", "--trainee", "赵六", "--input", str(short)]) == 2
    err = capsys.readouterr().err
    assert "short.wav" in err and "Traceback" not in err
    assert main(["enroll", "--input", str(tmp_path / "missing.wav")]) == 2


# ------------------------------------------------------------------ attribution on real mixes

def test_profile_from_another_session_attributes_the_mono_mix():
    # D03: clerk ttskit_Aicheng (a citizen in D02/D07/D10), citizen says 不知道 and 不清楚
    s = labels("D03")
    profile = enrol(voice_audio("ttskit_Aicheng", "D03"), "t")
    utts = label_utterances("D03")
    got = attribute_utterances(utts, cut_segments(dev_dir() / "D03.wav", utts), Evaluator.default(), profile)
    for lab, u in zip(s["utterances"], got):
        assert u.speaker_score is not None
        if lab["end"] - lab["start"] >= 1.5:
            assert u.speaker == lab["speaker"], (lab["text"], u.speaker, u.speaker_score)
        else:
            assert u.speaker in (lab["speaker"], "uncertain")


def test_clustering_without_profile_keeps_the_citizen_out():
    s = labels("D10")  # long polite session; the citizen says 不知道
    utts = label_utterances("D10")
    got = attribute_utterances(utts, cut_segments(dev_dir() / "D10.wav", utts), Evaluator.default(), None)
    wrong = [(lab["text"], u.speaker) for lab, u in zip(s["utterances"], got)
             if u.speaker not in (lab["speaker"], "uncertain")]
    assert not wrong


def charged_citizen_lines(sid: str, judged: list[Utterance], result) -> list[str]:
    """Citizen lines (by the labels' times) charged to the clerk: a brush-off or 语速过快."""
    s = labels(sid)

    def who(u):
        return max(s["utterances"], key=lambda x: min(u.end, x["end"]) - max(u.start, x["start"]))["speaker"]
    return [judged[f.utterance].text for f in result.findings
            if f.speaker in ("clerk", "unknown") and (f.type == "brush_off" or f.rule == "too_fast")
            and f.utterance is not None and who(judged[f.utterance]) == "citizen"]


@pytest.mark.parametrize("sid", [f"D{k:02d}" for k in range(1, 11)])
def test_without_a_profile_no_citizen_line_is_charged_on_the_mono_mix(sid):
    # Every dev session's mono mix, no enrolment: two-voice clustering and role cues only.
    ev = Evaluator.default()
    utts = label_utterances(sid)
    judged = attribute_utterances(utts, cut_segments(dev_dir() / f"{sid}.wav", utts), ev, None)
    assert all(u.speaker in ("clerk", "citizen", "uncertain") and u.speaker_score is not None for u in judged)
    result = ev.evaluate(judged, session=True)
    assert charged_citizen_lines(sid, judged, result) == []
    # an utterance and its findings name the same speaker
    for f in result.findings:
        if f.type != "structure" and f.utterance is not None:
            assert f.speaker == judged[f.utterance].speaker


def test_without_a_profile_a_rude_clerk_is_still_charged():
    # D08: the clerk says no courtesy at all; the brush-offs themselves (the clerk's vocabulary)
    # and the citizen's complaint tell which voice is the clerk.
    ev = Evaluator.default()
    utts = label_utterances("D08")
    judged = attribute_utterances(utts, cut_segments(dev_dir() / "D08.wav", utts), ev, None)
    result = ev.evaluate(judged, session=True)
    charged = {f.phrase for f in result.findings if f.type == "brush_off" and f.speaker == "clerk"}
    assert len(charged & set(labels("D08")["expect"]["clerk_banned"])) >= 5
    assert charged_citizen_lines("D08", judged, result) == []


def test_without_a_profile_two_voices_and_no_role_cue_are_uncertain():
    # Two real speakers (the podcast hosts), pieces interleaved, no words: nothing says which one
    # is the clerk, so every line is 可能是窗口 — shown, never scored, never the citizen charged.
    from coach.speaker.attribute import Piece, attribute

    f = read(real_dir() / "pod_f_enhanced.wav")
    m = read(real_dir() / "pod_m_enhanced.wav")
    pieces = [Piece(x[k * 2 * SR:(k + 1) * 2 * SR]) for k in range(6) for x in (m, f)]
    got = attribute(pieces)
    assert {a.speaker for a in got} == {"uncertain"}
    assert "分不清两个声音哪个是窗口" in got[0].reason


def test_live_session_attributes_each_final_from_its_audio():
    ev = Evaluator.default()
    s = labels("D03")
    profile = enrol(clerk_audio("D03"), "live")
    save_profile(profile)
    live = LiveSession(ev, SessionMeta(kind="live", trainee="live"))
    mono = read(dev_dir() / "D03.wav")
    upto = 0
    for lab in s["utterances"]:
        end = int(lab["end"] * SR) + 1600
        live.audio(mono[upto:end])          # audio first, as the engine hears it
        upto = end
        live.add(Utterance(lab["start"], lab["end"], "unknown", lab["text"]))
    result = live.finish()
    pairs = [(x["speaker"], u.speaker) for x, u in zip(s["utterances"], live.utterances)]
    assert not [p for p in pairs if p[1] not in (p[0], "uncertain")]   # never the wrong side
    assert sum(a == b for a, b in pairs) >= len(pairs) - 2              # the first lines have little to go on
    assert not [f for f in result.findings if f.type == "brush_off" and f.speaker == "clerk"]


class LabelEngine:
    """The recogniser scripted from a dev session's labels: for each turn a partial of its whole
    text once the audio reaches 70 % of the turn, then the final at its end.  What is under test
    is who the partial is charged to (real audio, real attribution, real matcher), not hearing."""

    name, model = "labels", "labels"

    def __init__(self, turns: list[Utterance]):
        from coach.asr.base import Final, Partial

        self.events = []
        for u in turns:
            at = round(u.start + 0.7 * (u.end - u.start), 2)
            self.events += [(at, Partial(u.text, u.start, "unknown", at)),
                            (u.end + 0.2, Final(Utterance(u.start, u.end, "unknown", u.text)))]
        self.events.sort(key=lambda e: e[0])

    def stream(self, source, *, speaker="unknown"):
        t, events = 0.0, list(self.events)
        for block in source:
            t += len(block) / SR
            while events and events[0][0] <= t:
                yield events.pop(0)[1]


def test_peek_keeps_nothing_and_names_the_side_so_far():
    # Who is speaking in a partial (start to 70 % of the turn), asked before each final: never the
    # wrong side, mostly right, and the finals come out exactly as without asking.
    from coach.speaker.apply import LiveAttributor

    ev = Evaluator.default()
    s = labels("D03")
    profile = enrol(clerk_audio("D03"), "peek")
    mono = read(dev_dir() / "D03.wav")
    asked, plain = LiveAttributor(ev, profile), LiveAttributor(ev, profile)
    peeked, finals, upto = [], [], 0
    for lab in s["utterances"]:
        mid = lab["start"] + 0.7 * (lab["end"] - lab["start"])
        for live in (asked, plain):
            live.audio(mono[upto:int(mid * SR)])
        upto = int(mid * SR)
        a = asked.peek(Utterance(lab["start"], round(mid, 2), "unknown", lab["text"]))
        peeked.append((lab["speaker"], a.speaker if a is not None else "unknown"))
        end = int(lab["end"] * SR) + 1600
        for live in (asked, plain):
            live.audio(mono[upto:end])
        upto = end
        u = Utterance(lab["start"], lab["end"], "unknown", lab["text"])
        finals.append((asked.attribute(u), plain.attribute(u)))
    assert all(x == y for x, y in finals)                              # asking changed nothing
    assert len(asked.pieces) == len(s["utterances"])
    assert not [p for p in peeked if p[1] not in (p[0], "uncertain", "unknown")]
    assert sum(a == b for a, b in peeked) >= len(peeked) - 2
    assert asked.peek(Utterance(0.0, None, "unknown", "")) is None     # no span, no answer


def test_a_peek_embeds_each_window_once_and_as_a_fresh_look_would():
    # The partials of one long turn, asked every 0.5 s: each of the voice's 1.6 s windows is
    # embedded once (the same array from then on), only the windows whole in the last 4 s count,
    # and the voice is what a listener without the memo computes for the same span.
    from coach.speaker.apply import PEEK_TAIL_S, STEP_S, WINDOW_S, LiveAttributor

    ev = Evaluator.default()
    mono = read(dev_dir() / "D03.wav")
    lab = max(labels("D03")["utterances"], key=lambda x: x["end"] - x["start"])
    assert lab["end"] - lab["start"] > PEEK_TAIL_S + 1.0         # early windows leave the tail
    live = LiveAttributor(ev)
    live.audio(mono[:int(lab["start"] * SR)])
    seen: dict[int, object] = {}
    upto, end, checked = int(lab["start"] * SR), lab["start"] + 0.5, 0
    while end <= lab["end"]:
        live.audio(mono[upto:int(end * SR)])
        upto = int(end * SR)
        u = Utterance(lab["start"], round(end, 2), "unknown", lab["text"])
        tail = max(u.start, u.end - PEEK_TAIL_S)
        voice = live._tail_embedding(u, tail)
        windows = live._windows[1]
        for k, emb in windows.items():
            assert u.start + k * STEP_S >= tail - 1e-6 and u.start + k * STEP_S + WINDOW_S <= u.end + 1e-6
            assert seen.setdefault(k, emb) is emb            # embedded once, kept as it was
        if voice is None:
            assert u.end - u.start < WINDOW_S + 1e-6
        else:
            fresh = LiveAttributor(ev)
            fresh.audio(mono[:upto])
            again = fresh._tail_embedding(u, tail)
            assert np.allclose(voice, again, atol=1e-5)
            checked += 1
        end += 0.5
    assert checked >= 6 and len(seen) >= 3
    assert 0 not in live._windows[1]                         # the first window has left the tail


def test_listener_shows_no_provisional_findings_on_the_citizens_words(tmp_path):
    # D03's citizen says 我不知道在哪儿办 and 我也搞不清楚: brush-off wordings, but not the clerk's.
    # Partials of the clerk's lines keep their provisional findings; the citizen's lose them
    # (their finals are not charged either).
    from coach.audio.sources import FileSource
    from coach.tui.listen import Listener
    from coach.tui.messages import FinalUtterance, PartialText

    s = labels("D03")
    save_profile(enrol(clerk_audio("D03"), "listener"))
    ev = Evaluator.default()
    path = dev_dir() / "D03.wav"
    listener = Listener(lambda live: LabelEngine(label_utterances("D03")),
                        lambda f, d: FileSource(f, realtime=False), input_file=str(path), evaluator=lambda: ev)
    session = LiveSession(ev, SessionMeta(kind="live", trainee="listener"))
    posted = []
    listener.run(posted.append, prepare=lambda: session)
    partials = [m for m in posted if isinstance(m, PartialText)]
    finals = [m for m in posted if isinstance(m, FinalUtterance)]
    assert len(partials) == len(finals) == len(s["utterances"])
    said_by = [lab["speaker"] for lab in s["utterances"]]
    raw = [[f for f in ev.matcher.find(p.text) if f.kind == "brush_off"] for p in partials]
    citizen_brush = [i for i, who in enumerate(said_by) if who == "citizen" and raw[i]]
    assert len(citizen_brush) >= 2                       # the words alone would alert
    for i in citizen_brush:
        assert partials[i].findings == [], partials[i].text
        assert finals[i].utterance.speaker in ("citizen", "uncertain")
    clerk_shown = [i for i, who in enumerate(said_by) if who == "clerk" and partials[i].findings]
    assert len(clerk_shown) >= 3                          # the clerk's courtesies still show at once


def test_stereo_live_session_is_all_clerk_without_attribution():
    live = LiveSession(Evaluator.default(), SessionMeta(kind="live", clerk_channel="left"))
    live.add(Utterance(0.0, 2.0, "unknown", "您好，请问您要办什么业务？"))
    assert live.attributor is None and live.utterances[0].speaker == "clerk"
    assert live.speaker_so_far(Utterance(2.5, 3.0, "unknown", "不知道")) == "clerk"   # a partial on the clerk's channel
    alone = LiveSession(Evaluator.default(), SessionMeta(kind="live"), attributor=None)
    assert alone.speaker_so_far(Utterance(0.0, 1.0, "unknown", "不知道")) == "unknown"   # judged as the clerk


# ------------------------------------------------------------------ charging rules

def test_charging_rules_by_speaker():
    ev = Evaluator.default()
    utts = [
        Utterance(0.0, 2.0, "clerk", "您好，请问您要办什么业务？", speaker_score=0.6),
        Utterance(3.0, 5.0, "citizen", "我也不知道要带什么，您好。", speaker_score=-0.5),
        Utterance(6.0, 6.6, "uncertain", "不清楚。", speaker_score=0.01),
        Utterance(7.0, 7.8, "citizen", "快点快点快点快点快点快点快点快点", speaker_score=-0.4),
        Utterance(9.0, 11.0, "clerk", "请慢走。", speaker_score=0.5),
    ]
    r = ev.evaluate(utts)
    by_speaker = {(f.speaker, f.type, f.phrase) for f in r.findings}
    assert not any(sp == "citizen" for sp, _, _ in by_speaker)
    unsure = [f for f in r.findings if f.speaker == "uncertain"]
    assert unsure and all(f.severity == "warning" and "可能是窗口" in f.suggestion for f in unsure)
    assert "0.6 秒" in unsure[0].suggestion                      # the reason: too short to tell
    assert r.score == 100 and r.breakdown["counts"]["brush_off"] == 0
    assert not [f for f in r.findings if f.rule == "too_fast"]  # the citizen's fast speech
    # JSON: an utterance's speaker and its findings' speaker agree, score kept
    data = r.to_json()
    assert [u["speaker_score"] for u in data["utterances"]] == [0.6, -0.5, 0.01, -0.4, 0.5]
    for f in r.findings:
        if f.utterance is not None and f.type != "structure":
            assert f.speaker == utts[f.utterance].speaker


def test_courtesies_credited_only_to_the_clerk_and_unknown_is_the_clerk():
    ev = Evaluator.default()
    r = ev.evaluate([Utterance(0.0, 2.0, "citizen", "您好，谢谢。"), Utterance(2.5, 4.0, "clerk", "请慢走。")])
    assert r.breakdown["courtesies_said"] == ["请慢走"]
    assert "missing_greeting" in {f.rule for f in r.findings}
    r = ev.evaluate([Utterance(0.0, 2.0, "uncertain", "您好。"), Utterance(2.5, 4.0, "clerk", "请慢走。")])
    assert r.breakdown["courtesies_said"] == ["请慢走"]          # not credited …
    assert "missing_greeting" not in {f.rule for f in r.findings}  # … but not charged as missing either
    r = ev.evaluate([Utterance(0.0, 2.0, "unknown", "不知道。")])
    assert [(f.speaker, f.severity) for f in r.findings if f.type == "brush_off"] == [("clerk", "violation")]


# ------------------------------------------------------------------ analyze end to end

def test_analyze_mono_with_enrolled_clerk_never_charges_the_citizen(tmp_path, capsys):
    clip = tmp_path / "aicheng.wav"
    sf.write(clip, voice_audio("ttskit_Aicheng", "D03")[: 25 * SR], SR)
    assert main(["enroll", "--trainee", "甲", "--input", str(clip)]) == 0
    capsys.readouterr()
    assert main(["analyze", str(dev_dir() / "D03.wav"), "--trainee", "甲", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    speakers = {u["speaker"] for u in data["utterances"]}
    assert "citizen" in speakers and "clerk" in speakers
    assert all(u["speaker_score"] is not None for u in data["utterances"])
    # the citizen's 不知道 / 不清楚 are never charged; the clerk's polite uses are traps
    assert not [f for f in data["findings"] if f["type"] == "brush_off" and f["speaker"] == "clerk"]


def test_clerk_channel_is_one_option_for_every_listening_command():
    from coach.cli import build_parser

    parser = build_parser()
    for argv in (["analyze", "x.wav"], ["live"], ["practice"], ["review"], ["transcribe", "x.wav"]):
        assert parser.parse_args([*argv, "--clerk-channel", "right"]).clerk_channel == "right"
    with pytest.raises(SystemExit):
        parser.parse_args(["live", "--clerk-channel", "middle"])


def test_file_source_gives_the_clerk_channel(tmp_path):
    from coach.audio.sources import FileSource

    left, right = read(dev_dir() / "D03.stereo.wav", channels="both")
    got = np.concatenate(list(FileSource(dev_dir() / "D03.stereo.wav", realtime=False, channel="left")))
    np.testing.assert_array_equal(got, left)
    assert not np.array_equal(got, right)


def test_settings_keep_the_clerk_channel(tmp_path):
    from coach.tui.settings import Settings

    s = Settings(clerk_channel="right")
    path = s.save(tmp_path / "settings.toml")
    assert Settings.load(path).clerk_channel == "right"
    path.write_text('clerk_channel = "middle"\n', encoding="utf-8")
    assert Settings.load(path).clerk_channel == ""


def test_trainee_statistics_leave_out_what_is_only_possibly_the_clerk(tmp_path):
    from coach.store import Store

    ev = Evaluator.default()
    r = ev.evaluate([Utterance(0.0, 2.0, "clerk", "您好，请问您要办什么业务？"),
                     Utterance(2.5, 3.0, "uncertain", "不知道。", speaker_score=0.02),
                     Utterance(3.5, 5.0, "clerk", "不清楚，请慢走。")])
    with Store(tmp_path / "s.db") as store:
        store.save_result(r, trainee="甲")
        stats = {s.trainee: s for s in store.trainee_stats()}
        back = store.result(store.sessions()[0].id)
    assert [k for k, _ in stats["甲"].top_violations] == ["brush_off:不清楚"]
    assert [u.speaker for u in back.utterances] == ["clerk", "uncertain", "clerk"]


def test_uncertain_brush_off_is_shown_as_possibly_the_clerk():
    from coach.tui.widgets import finding_text

    r = Evaluator.default().evaluate([Utterance(0, 0.6, "uncertain", "不知道。", speaker_score=0.01)], session=False)
    (f,) = [f for f in r.findings if f.type == "brush_off"]
    text = finding_text(f).plain
    assert "?忌语" in text and "可能是窗口" in text and "0.6 秒" in text and "不计分" in text


def test_batch_review_without_a_profile_stores_who_said_it_and_the_score(tmp_path, capsys):
    # D07 through the real pipeline (Whisper, no enrolment) into a real session database: the
    # citizen's 还没到点呢 is never charged, and the store keeps each line's speaker and score.
    import shutil

    from coach.store import Store

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(dev_dir() / "D07.wav", folder / "D07.wav")
    db = tmp_path / "review.db"
    assert main(["analyze", str(folder), "--db", str(db), "--out", str(tmp_path / "out"), "--jobs", "1"]) in (0, 1)
    capsys.readouterr()
    with Store(db) as store:
        (row,) = store.sessions()
        result = store.result(row.id)
    assert result.utterances and all(u.speaker_score is not None for u in result.utterances)
    assert {u.speaker for u in result.utterances} <= {"clerk", "citizen", "uncertain"}
    assert charged_citizen_lines("D07", result.utterances, result) == []
    for f in result.findings:
        if f.type != "structure" and f.utterance is not None:
            assert f.speaker == result.utterances[f.utterance].speaker


def test_an_undecided_recording_still_misses_what_nobody_said():
    # Every line uncertain (two voices, nobody known to be the clerk): a brush-off is not charged,
    # but a greeting / farewell that no line holds is missing whoever the clerk was.
    ev = Evaluator.default()
    lines = [Utterance(0.0, 3.0, "uncertain", "我来办社保转移。", speaker_score=0.0),
             Utterance(3.5, 5.0, "uncertain", "把身份证给我。", speaker_score=0.0),
             Utterance(5.5, 7.0, "uncertain", "不知道。", speaker_score=0.0),
             Utterance(7.5, 9.0, "uncertain", "明白了，多谢。", speaker_score=0.0),
             Utterance(9.5, 10.5, "uncertain", "嗯。", speaker_score=0.0)]
    rules = {f.rule for f in ev.evaluate(lines, session=True).findings if f.type == "structure"}
    assert {"missing_greeting", "missing_farewell"} <= rules
    r = ev.evaluate(lines, session=True)
    assert r.breakdown["counts"]["brush_off"] == 0
    assert all(f.severity == "warning" for f in r.findings if f.type == "brush_off")
    # the clerk's greeting may be the second line (the citizen opened), its farewell the last but one
    polite = [lines[0], Utterance(3.5, 5.0, "uncertain", "您好，把身份证给我。", speaker_score=0.0),
              lines[2], Utterance(7.5, 9.0, "uncertain", "好的，请慢走。", speaker_score=0.0), lines[4]]
    rules = {f.rule for f in ev.evaluate(polite, session=True).findings if f.type == "structure"}
    assert not {"missing_greeting", "missing_farewell"} & rules


def _d06(first_line: str | None = None):
    ev = Evaluator.default()
    utts = label_utterances("D06")
    if first_line is not None:
        utts[0] = Utterance(utts[0].start, utts[0].end, "unknown", first_line)
    judged = attribute_utterances(utts, cut_segments(dev_dir() / "D06.wav", utts), ev, None)
    return judged, ev.evaluate(judged, session=True)


def test_the_clerk_who_opens_asking_what_the_citizen_came_for_is_found():
    # D06 mono, no profile: the clerk's opener 您好，请问要办理什么 (an asking shape in the first lines)
    # outweighs the citizen's 给您，参保凭证… (a completion shape: an open pattern, not a listed
    # wording) and 多谢; every line gets its labelled speaker, and the missing farewell (only 嗯，慢走),
    # hold announcement and apology after the 11 s hold are charged; no citizen line is.
    judged, result = _d06()
    assert [u.speaker for u in judged] == [u["speaker"] for u in labels("D06")["utterances"]]
    rules = {f.rule for f in result.findings if f.type == "structure"}
    assert {"missing_farewell", "unannounced_hold", "no_apology_after_wait"} <= rules
    assert charged_citizen_lines("D06", judged, result) == []


def test_pattern_courtesies_are_weaker_role_evidence_than_listed_wordings():
    from coach.speaker.attribute import text_cues

    ev = Evaluator.default()
    shape, listed = text_cues(ev, "给您，参保凭证是原单位开的。"), text_cues(ev, "您的手续已办好，请核对。")
    assert 0 < shape[0] < listed[0]
    assert text_cues(ev, "您好，请问要办理什么？")[2] and not shape[2]


def test_undecided_mono_session_still_misses_the_apology_after_a_wait():
    # D06 as Whisper-base hears its opener (你好，警卫要办你什么: the asking is lost): nothing says
    # which voice is the clerk, every line is uncertain.  After the 11 s hold nobody apologises, so
    # whichever line was the clerk's answer, it did not: charged, as the missing farewell and the
    # unannounced hold are; the citizen's lines are still not charged.
    judged, result = _d06("你好，警卫要办你什么？")
    assert {u.speaker for u in judged} == {"uncertain"}
    rules = {f.rule for f in result.findings if f.type == "structure"}
    assert {"missing_farewell", "unannounced_hold", "no_apology_after_wait"} <= rules
    assert charged_citizen_lines("D06", judged, result) == []
    assert result.breakdown["penalties"].get("no_apology_after_wait", 0) > 0


def test_apology_after_a_wait_is_looked_for_in_every_line_that_may_be_the_clerks_answer():
    ev = Evaluator.default()

    def rules(lines):
        return {f.rule for f in ev.evaluate(lines, session=True).findings if f.type == "structure"}

    before = [Utterance(0.0, 2.0, "uncertain", "您好，请稍等。", speaker_score=0.0)]
    # undecided: the apology in the second line after the hold (the citizen spoke first) spares the clerk
    sorry = before + [Utterance(15.0, 16.0, "uncertain", "好了吗？", speaker_score=0.0),
                      Utterance(16.5, 18.0, "uncertain", "不好意思，让您久等了。", speaker_score=0.0),
                      Utterance(18.5, 19.5, "uncertain", "好的，请慢走。", speaker_score=0.0)]
    assert "no_apology_after_wait" not in rules(sorry)
    rude = before + [Utterance(15.0, 16.0, "uncertain", "好了吗？", speaker_score=0.0),
                     Utterance(16.5, 18.0, "uncertain", "办好了。", speaker_score=0.0),
                     Utterance(18.5, 19.5, "uncertain", "好的，请慢走。", speaker_score=0.0)]
    assert "no_apology_after_wait" in rules(rude)
    # one line after the hold and nobody known to be the clerk: the clerk may not have answered
    assert "no_apology_after_wait" not in rules(rude[:2])
    # an uncertain line, then the clerk's without an apology: the clerk's first answer lacked it
    mixed = [Utterance(0.0, 2.0, "clerk", "您好，请稍等。"), rude[1],
             Utterance(16.5, 18.0, "clerk", "办好了。"), Utterance(18.5, 19.5, "clerk", "请慢走。")]
    assert "no_apology_after_wait" in rules(mixed)
    mixed[1] = Utterance(15.0, 16.0, "uncertain", "不好意思，让您久等了。", speaker_score=0.0)
    assert "no_apology_after_wait" not in rules(mixed)
    # the known clerk says nothing after the hold: the uncertain lines there may all be the citizen's
    assert "no_apology_after_wait" not in rules([mixed[0], rude[1], rude[2], rude[3]])
