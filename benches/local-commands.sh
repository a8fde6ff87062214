#!/usr/bin/env bash
# How long the local commands take with 50 stored tokens: `status --offline`, `set-token`
# (lock, read, atomic write with fsync) and `version` as the floor. Needs hyperfine
# (apt-get install hyperfine). Usage: benches/local-commands.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=$PWD/target/release/nix-tokens
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export HOME=$home/home XDG_CONFIG_HOME=$home/home/.config NIX_CONF_DIR=$home/etc
unset NIX_CONFIG NIX_CONFIG_HOME NIX_USER_CONF_FILES
mkdir -p "$NIX_CONF_DIR"
for i in $(seq 1 50); do
  echo "token${i}abcdefghijklmnop" | "$bin" -q set-token "host$i.example.org"
done
hyperfine -N --warmup 5 "$bin version" "$bin status --offline" "$bin status --offline --json"
hyperfine --warmup 3 "echo ghp_abcdefghijklmnopqrstuvwxyz | $bin -q set-token github.com --force"
