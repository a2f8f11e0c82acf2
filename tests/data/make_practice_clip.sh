#!/bin/sh
# Rebuild tests/data/practice_clip.ogg (the clerk's answers for the TUI practice test) with
# espeak-ng (voice cmn-latn-pinyin+f3, 140 wpm) + sox + ffmpeg/libopus.  See test_tui_real.py.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sox -n -r 16000 -c 1 -b 16 "$tmp/lead.wav" trim 0 0.3
n=0
for line in "您好，请稍等。" "不知道，你去问别人吧。" "再见，请慢走。"; do
  espeak-ng -v cmn-latn-pinyin+f3 -s 140 -w "$tmp/raw$n.wav" "$line"
  sox "$tmp/raw$n.wav" -r 16000 -c 1 -b 16 "$tmp/u$n.wav" silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse norm -3 pad 0 2.0
  n=$((n + 1))
done
sox "$tmp/lead.wav" "$tmp/u0.wav" "$tmp/u1.wav" "$tmp/u2.wav" "$tmp/clip.wav"
ffmpeg -loglevel error -y -i "$tmp/clip.wav" -c:a libopus -b:a 24k -ac 1 "$here/practice_clip.ogg"
echo "$here/practice_clip.ogg: $(soxi -D "$tmp/clip.wav") s, $(wc -c < "$here/practice_clip.ogg") bytes"
