#!/usr/bin/env bash
# Builds the peers of ../shared/bench-peers where that folder is read-only: the Rust peers
# into $BENCH_WORK/target (dfdx into $BENCH_WORK/target-dfdx) and the Python venv into
# $BENCH_WORK/venv, which is where its run.sh looks for them. Then, from the checkout:
#   RUSTFLAGS="-C target-cpu=native" cargo build --release --example bench
#   TAPEGRAD=. SKIP_BUILD=1 ROUNDS=3 ../shared/bench-peers/run.sh
# About 15 minutes on two cores (burn alone ~7), and ~6 GB for the venv (torch's wheels).
set -euo pipefail
PEERS_DIR=${PEERS_DIR:-$(cd "$(dirname "$0")/../../shared/bench-peers" && pwd)}
BENCH_WORK=${BENCH_WORK:-${TMPDIR:-/tmp}/tapegrad-bench-peers}
mkdir -p "$BENCH_WORK"
export RUSTFLAGS="-C target-cpu=native"
# One package at a time, as the harness does (building them together would unify features).
for p in bench-gemm bench-candle bench-burn; do
  (cd "$PEERS_DIR/rust" && CARGO_TARGET_DIR="$BENCH_WORK/target" cargo build --release -p "$p")
done
(cd "$PEERS_DIR/rust/bench-dfdx" && CARGO_TARGET_DIR="$BENCH_WORK/target-dfdx" cargo build --release) ||
  echo "dfdx did not build: the harness skips it" >&2
if [ ! -x "$BENCH_WORK/venv/bin/python" ]; then
  python3 -m venv "$BENCH_WORK/venv"
  "$BENCH_WORK/venv/bin/pip" install -q -U pip
  "$BENCH_WORK/venv/bin/pip" install -q -r "$PEERS_DIR/python/requirements.txt"
fi
echo "peers built in $BENCH_WORK"
