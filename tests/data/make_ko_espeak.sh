#!/bin/sh
# Regenerates ko_espeak.wav (Korean test speech for the Vosk engine tests): espeak-ng → 16 kHz mono 16-bit.
set -e
cd "$(dirname "$0")"
espeak-ng -v ko -s 140 -w /tmp/ko_espeak_raw.wav "오늘은 월요일입니다. 여기가 어디예요?"
sox /tmp/ko_espeak_raw.wav -r 16000 -c 1 -b 16 ko_espeak.wav gain -3
rm -f /tmp/ko_espeak_raw.wav
