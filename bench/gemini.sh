#!/bin/sh
# bench/gemini.sh: 320 Gemini calls against the fake (tests/fake/), each answered
# in 200 ms, at concurrency 16: ideal 4 s, target within 1.1x. The knobs
# and the report are bench/remote.sh's.
ENGINE=gemini exec sh "$(dirname "$0")/remote.sh" "$@"
