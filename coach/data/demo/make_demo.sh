#!/bin/sh
# Rebuild the bundled demo recording (demo.ogg) from script.txt with espeak-ng + sox + ffmpeg.
# espeak-ng's Mandarin voice "cmn-latn-pinyin" (variant +f3 for the clerk, +f4 for the citizen)
# is the one Whisper-base transcribes best here; plain "cmn" reads tone digits in English.
# Usage: sh make_demo.sh [OUT.ogg]      (needs espeak-ng, sox, ffmpeg with libopus)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/demo.ogg}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
parts=""
sox -n -r 16000 -c 1 -b 16 "$tmp/lead.wav" trim 0 0.3
parts="$tmp/lead.wav"
grep -v '^#' "$here/script.txt" | while IFS='|' read -r who wpm gap text; do
  [ -n "$text" ] || continue
  case "$who" in clerk) voice=cmn-latn-pinyin+f3 ;; *) voice=cmn-latn-pinyin+f4 ;; esac
  espeak-ng -v "$voice" -s "$wpm" -w "$tmp/raw$n.wav" "$text"
  sox "$tmp/raw$n.wav" -r 16000 -c 1 -b 16 "$tmp/u$n.wav" silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse norm -3 pad 0 "$gap"
  echo "$tmp/u$n.wav" >> "$tmp/list"
  n=$((n + 1))
done
sox "$tmp/lead.wav" $(cat "$tmp/list") "$tmp/demo.wav"
ffmpeg -loglevel error -y -i "$tmp/demo.wav" -c:a libopus -b:a 24k -ac 1 "$out"
echo "$out: $(soxi -D "$tmp/demo.wav") s, $(wc -c < "$out") bytes"
