#!/usr/bin/env bash
# `status` over 50 hosts whose forge answers each request after 200 ms, against one host; the
# same when the provider must first be detected (tokens added by hand); `status --offline`
# against `cat` of the same files; and 50 hosts that accept connections and never answer.
# Needs hyperfine and python3. Usage: benches/status-50-hosts.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=$PWD/target/release/nix-tokens
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config NIX_CONF_DIR=$work/etc
export DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent
unset NIX_CONFIG NIX_CONFIG_HOME NIX_USER_CONF_FILES
mkdir -p "$NIX_CONF_DIR"

# A Gitea-like forge: every request answered after 200 ms; and a port that never answers.
cat > "$work/forge.py" <<'PY'
import http.server, json, socket, sys, threading, time
class Forge(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(0.2)
        answer = {"version": "1.22.0"} if self.path.endswith("/version") else {"login": "bench"}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer.request_queue_size = 256
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Forge)
silent = socket.socket(); silent.bind(("127.0.0.1", int(sys.argv[2]))); silent.listen(1000)
server.serve_forever()
PY
python3 "$work/forge.py" 18480 18481 &
sleep 1

for i in $(seq 1 50); do
  echo "giteatoken$i-abcdefghij" | "$bin" -q login "git$i.bench.example" -p gitea \
    --base-url http://127.0.0.1:18480 --with-token
done
files="$XDG_CONFIG_HOME/nix/nix.conf $XDG_CONFIG_HOME/nix/access-tokens.conf $XDG_CONFIG_HOME/nix/netrc"

hyperfine -N --warmup 2 --runs 10 \
  "$bin status git1.bench.example" \
  "$bin status"
hyperfine -N --warmup 5 "cat $files" "$bin status --offline"

# Tokens whose provider nix-tokens does not know: detected (one round of probes) then checked.
hosts_file="$XDG_CONFIG_HOME/nix/.nix-tokens-hosts.json"
cp "$hosts_file" "$work/hosts.json"
sed -i 's/"provider": "gitea"/"provider": "forgotten"/' "$hosts_file"
hyperfine -N --warmup 2 --runs 10 "$bin status"
cp "$work/hosts.json" "$hosts_file"

# The same 50 hosts behind a forge that never answers.
sed -i 's/127.0.0.1:18480/127.0.0.1:18481/' "$XDG_CONFIG_HOME/nix/.nix-tokens-hosts.json"
hyperfine -N --runs 1 -i "$bin status"
