#!/bin/sh
# Rebuild check.ogg, the known clip a speech model must recognise at first use (coach/asr/selfcheck.py).
# Synthetic speech made with espeak-ng (voice and text below; no recording of a person), 16 kHz mono Opus.
# Usage: sh make_check.sh [OUT.ogg]      (needs espeak-ng, sox, ffmpeg with libopus)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/check.ogg}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
espeak-ng -v cmn-latn-pinyin+f3 -s 170 -w "$tmp/raw.wav" "$(cat "$here/check.txt")"
sox "$tmp/raw.wav" -r 16000 -c 1 -b 16 "$tmp/check.wav" silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse norm -3 pad 0.3 0.3
ffmpeg -loglevel error -y -i "$tmp/check.wav" -c:a libopus -b:a 24k -ac 1 "$out"
echo "$out: $(soxi -D "$tmp/check.wav") s, $(wc -c < "$out") bytes"
