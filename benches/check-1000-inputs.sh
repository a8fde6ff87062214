#!/usr/bin/env bash
# `check` at scale, side by side in one run, each against stand-ins that answer every request
# after 300 ms: one github: input; 1,000 github: inputs on github.com (one host); 1,000 gitlab:
# inputs over 50 GitLab hosts (20 projects each). Each is logged in with a token, so GitHub is
# asked through GraphQL and GitLab through projects(fullPaths:). For each: the mean and best wall
# time of RUNS runs (after one warm-up), the requests each host got per run, and the most requests
# in flight at one host.
# Needs python3. Usage: benches/check-1000-inputs.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release --quiet
bin=$PWD/target/release/nix-tokens
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config NIX_CONF_DIR=$work/etc
export DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent GIT_CONFIG_NOSYSTEM=1
unset NIX_CONFIG NIX_CONFIG_HOME NIX_USER_CONF_FILES GITHUB_ACTIONS
mkdir -p "$NIX_CONF_DIR"
gh_port=18600
gl_first=18601

# One process serving a GitHub (GHES layout) on $gh_port and 50 GitLabs on the next 50 ports.
# Every request is answered after the delay (GET /__delay?ms=N sets it; 0 while logging in);
# GET /__stats gives each port's requests and the most in flight at once, and resets them.
cat > "$work/forges.py" <<'PY'
import http.server, json, sys, threading, time, urllib.parse
gh, first, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
lock = threading.Lock()
delay = [0.3]
stats = {}
class Forge(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self, code, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def control(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/__delay":
            delay[0] = int(urllib.parse.parse_qs(url.query)["ms"][0]) / 1000
            self.answer(200, {})
        else:
            with lock:
                out = {str(p): dict(s) for p, s in stats.items()}
                stats.clear()
            self.answer(200, out)
    def handle_one(self, body):
        if self.path.startswith("/__"):
            return self.control()
        port = self.server.server_address[1]
        with lock:
            s = stats.setdefault(port, {"requests": 0, "now": 0, "most": 0})
            s["requests"] += 1
            s["now"] += 1
            s["most"] = max(s["most"], s["now"])
        time.sleep(delay[0])
        try:
            if port == gh:
                self.github(body)
            else:
                self.gitlab(body)
        finally:
            with lock:
                stats[port]["now"] -= 1
    def github(self, body):
        limits = [("X-RateLimit-Limit", "5000"), ("X-RateLimit-Remaining", "4999")]
        if self.path == "/api/v3/user":
            return self.answer(200, {"login": "bench"}, limits + [("X-OAuth-Scopes", "repo")])
        if self.path == "/api/graphql":
            names = [k[1:] for k in json.loads(body)["variables"] if k.startswith("o")]
            return self.answer(200, {"data": {f"r{i}": {"isPrivate": True} for i in names}}, limits)
        self.answer(200, {"private": True}, limits)
    def gitlab(self, body):
        meta = [("X-Gitlab-Meta", '{"version":"1"}')]
        if self.path == "/api/v4/user":
            return self.answer(200, {"username": "bench"}, meta)
        if self.path == "/api/v4/personal_access_tokens/self":
            return self.answer(200, {"scopes": ["read_api", "read_repository"], "active": True}, meta)
        if self.path == "/api/graphql":
            paths = json.loads(body)["variables"]["paths"]
            nodes = [{"fullPath": p, "visibility": "private"} for p in paths]
            page = {"hasNextPage": False, "endCursor": "eyJpZCI6IjEifQ"}
            return self.answer(200, {"data": {"projects": {"nodes": nodes, "pageInfo": page}}}, meta)
        self.answer(200, {"visibility": "private"}, meta)
    def do_GET(self):
        self.handle_one(b"")
    def do_HEAD(self):
        self.handle_one(b"")
    def do_POST(self):
        self.handle_one(self.rfile.read(int(self.headers.get("Content-Length", 0))))
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer.request_queue_size = 1024
http.server.ThreadingHTTPServer.daemon_threads = True
for port in [gh] + list(range(first, first + count)):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Forge)
    threading.Thread(target=server.serve_forever, daemon=True).start()
threading.Event().wait()
PY
python3 "$work/forges.py" $gh_port $gl_first 50 &
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$gh_port/__delay?ms=0" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "ghp_benchtoken0123456789abcdefghijklmnop" | "$bin" -q login github.com -p github \
  --base-url "http://127.0.0.1:$gh_port" --with-token
for i in $(seq 1 50); do
  echo "glpat-benchtoken$i-abcdefghij" | "$bin" -q login "gitlab$i.bench.example" -p gitlab \
    --base-url "http://127.0.0.1:$((gl_first + i - 1))" --with-token
done

# Lock files in Nix's format.
python3 - "$work" <<'PY'
import json, os, sys
def node(original):
    locked = dict(original, lastModified=1700000000, narHash="sha256-" + "A" * 43 + "=",
                  rev="0c9aadc8eff6daaa5149d2df9e6c49baaf44161c")
    return {"flake": False, "locked": locked, "original": original}
def lock(dir, originals):
    nodes = {f"i{n}": node(o) for n, o in enumerate(originals)}
    nodes["root"] = {"inputs": {f"i{n}": f"i{n}" for n in range(len(originals))}}
    os.makedirs(f"{sys.argv[1]}/{dir}")
    with open(f"{sys.argv[1]}/{dir}/flake.lock", "w") as f:
        json.dump({"nodes": nodes, "root": "root", "version": 7}, f, indent=2, sort_keys=True)
lock("one", [{"type": "github", "owner": "org", "repo": "app"}])
lock("github", [{"type": "github", "owner": f"org{n % 40}", "repo": f"repo{n}"} for n in range(1000)])
lock("gitlab", [{"type": "gitlab", "host": f"gitlab{n % 50 + 1}.bench.example", "owner": "group",
                 "repo": f"p{n}"} for n in range(1000)])
PY

curl -sf "http://127.0.0.1:$gh_port/__delay?ms=300" >/dev/null
printf '%-44s %9s %9s %10s %22s %16s\n' "check of" "mean (s)" "best (s)" "requests" "most at one host" "busiest host"
for case in one github gitlab; do
  "$bin" check "$work/$case" >/dev/null 2>&1 || true   # warm-up
  curl -sf "http://127.0.0.1:$gh_port/__stats" >/dev/null
  times=()
  for _ in $(seq "$runs"); do
    start=$(date +%s.%N)
    "$bin" check "$work/$case" >/dev/null 2>&1 || { echo "check of $case failed" >&2; exit 1; }
    times+=("$(echo "$(date +%s.%N) - $start" | bc)")
  done
  stats=$(curl -sf "http://127.0.0.1:$gh_port/__stats")
  python3 - "$case" "$runs" "$stats" "${times[@]}" <<'PY'
import json, sys
case, runs, stats, times = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), [float(t) for t in sys.argv[4:]]
label = {"one": "1 github: input", "github": "1,000 github: inputs, github.com",
         "gitlab": "1,000 gitlab: inputs over 50 hosts"}[case]
total = sum(s["requests"] for s in stats.values()) / runs
most = max(s["most"] for s in stats.values())
busiest = max(s["requests"] for s in stats.values()) / runs
print(f"{label:<44} {sum(times) / len(times):9.3f} {min(times):9.3f} {total:10.0f} {most:22d} {busiest:16.0f}")
PY
done
