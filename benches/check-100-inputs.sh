#!/usr/bin/env bash
# `check` of a lock file with 100 gitlab: inputs over 20 hosts (each its own local server, on its
# own port) whose forge answers each request after 300 ms, against a lock file with one input; and
# `check --offline` of the 100. The stand-in answers no GraphQL (as a GitLab older than 16.6),
# so after one refused query per host each input is asked over REST.
# Needs hyperfine and python3. Usage: benches/check-100-inputs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=$PWD/target/release/nix-tokens
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config NIX_CONF_DIR=$work/etc
export DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent GIT_CONFIG_NOSYSTEM=1
unset NIX_CONFIG NIX_CONFIG_HOME NIX_USER_CONF_FILES
mkdir -p "$NIX_CONF_DIR"

# A GitLab-like forge: every request answered after 300 ms; each project is private and the
# token reads it.
cat > "$work/forge.py" <<'PY'
import http.server, json, sys, time
class Forge(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(0.3)
        if self.path == "/api/v4/user":
            answer = {"username": "bench"}
        elif self.path == "/api/v4/personal_access_tokens/self":
            answer = {"scopes": ["read_api", "read_repository"], "active": True}
        else:
            answer = {"visibility": "private"}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Gitlab-Meta", '{"version":"1"}')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
import threading
http.server.ThreadingHTTPServer.request_queue_size = 256
first, count = int(sys.argv[1]), int(sys.argv[2])
for port in range(first, first + count):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Forge)
    threading.Thread(target=server.serve_forever, daemon=True).start()
threading.Event().wait()
PY
python3 "$work/forge.py" 18490 20 &
sleep 1

for i in $(seq 1 20); do
  echo "glpat-benchtoken$i-abcdefghij" | "$bin" -q login "gitlab$i.bench.example" -p gitlab \
    --base-url "http://127.0.0.1:$((18489 + i))" --with-token
done

# Lock files in Nix's format: 100 inputs (5 projects on each of the 20 hosts), and one.
python3 - "$work" <<'PY'
import json, os, sys
def lock(count):
    nodes, inputs = {}, {}
    for n in range(count):
        host, name = f"gitlab{n % 20 + 1}.bench.example", f"p{n}"
        original = {"host": host, "owner": "group", "repo": name, "type": "gitlab"}
        locked = dict(original, lastModified=1700000000, narHash="sha256-" + "A" * 43 + "=",
                      rev="0c9aadc8eff6daaa5149d2df9e6c49baaf44161c")
        nodes[name] = {"flake": False, "locked": locked, "original": original}
        inputs[name] = name
    nodes["root"] = {"inputs": inputs}
    return json.dumps({"nodes": nodes, "root": "root", "version": 7}, indent=2, sort_keys=True)
for count, name in [(100, "hundred"), (1, "one")]:
    os.makedirs(f"{sys.argv[1]}/{name}")
    with open(f"{sys.argv[1]}/{name}/flake.lock", "w") as f:
        f.write(lock(count))
PY

hyperfine -N --warmup 2 --runs 10 \
  "$bin check $work/one" \
  "$bin check $work/hundred"
hyperfine -N --warmup 5 "$bin check --offline $work/hundred"
