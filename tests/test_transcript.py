import pytest

from coach.errors import InputError
from coach.session.transcript import parse_line, read_transcript


def test_parse_line_with_time_and_speaker():
    u = parse_line("[1.5-3.25] 窗口：您好")
    assert (u.start, u.end, u.speaker, u.text) == (1.5, 3.25, "clerk", "您好")
    u = parse_line("[00:01:02.5-00:01:04] 客户: 我想办证")
    assert (u.start, u.end, u.speaker) == (62.5, 64.0, "citizen")
    u = parse_line("请稍等")
    assert (u.start, u.speaker) == (None, "unknown")


def test_parse_line_skips_blank_and_comments():
    assert parse_line("   ") is None
    assert parse_line("# note") is None


def test_read_transcript_errors_name_the_file(tmp_path):
    p = tmp_path / "t.txt"
    p.write_bytes("您好".encode("gbk"))
    with pytest.raises(InputError, match="t.txt: not UTF-8"):
        read_transcript(p)
    p.write_text("[5-2] 窗口：您好", encoding="utf-8")
    with pytest.raises(InputError, match=r"t.txt:1: end time"):
        read_transcript(p)
    p.write_text("\n\n", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        read_transcript(p)
    with pytest.raises(InputError, match="not found"):
        read_transcript(tmp_path / "missing.txt")
