#!/usr/bin/env bash
# `login --ci` against stand-ins that answer every request after 300 ms: `github --ci` (one check
# of GITHUB_TOKEN), `flakehub --ci` (the ID token, then the cache's check) and `prefix.dev --ci`
# (the ID token, then the mint), each against the sum of the exchanges it waits for; then the
# watcher's CPU time while it has nothing to renew for 30 s.
# Needs hyperfine and python3. Usage: benches/ci-logins.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=$PWD/target/release/nix-tokens
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config NIX_CONF_DIR=$work/etc
export DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent RATTLER_AUTH_FILE=$work/rattler.json
unset NIX_CONFIG NIX_CONFIG_HOME NIX_USER_CONF_FILES NIX_REMOTE
mkdir -p "$NIX_CONF_DIR" "$HOME/.config/nix"

# Every service in one stand-in, each answer after 300 ms; ID tokens live 10 minutes.
cat > "$work/ci.py" <<'PY'
import base64, http.server, json, sys, time
def b64(d): return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
def jwt(aud): return b64({"alg": "RS256"}) + "." + b64({"aud": aud, "exp": int(time.time()) + 600}) + ".sig"
class Ci(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body, kind="application/json"):
        body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        time.sleep(0.3)
        if self.path.startswith("/idtoken"):
            aud = self.path.split("audience=")[1]
            self.answer(200, json.dumps({"value": jwt(aud)}))
        elif self.path.startswith("/api/v3/installation/repositories"):
            self.answer(200, json.dumps({"total_count": 1, "repositories": [{"full_name": "acme/app"}]}))
        elif self.path == "/cache/nix-cache-info":
            self.answer(200, "StoreDir: /nix/store\n", "text/x-nix-cache-info")
        else:
            self.answer(404, "{}")
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(0.3)
        self.answer(200, jwt("prefix.dev"), "text/plain")
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Ci).serve_forever()
PY
port=18765
python3 "$work/ci.py" $port &
sleep 1
url=http://127.0.0.1:$port
export GITHUB_ACTIONS=true GITHUB_SERVER_URL=https://github.com GITHUB_API_URL=$url/api/v3
export GITHUB_TOKEN=ghs_benchjobtoken0123456789abcdefAB GITHUB_REPOSITORY=acme/app
export ACTIONS_ID_TOKEN_REQUEST_URL="$url/idtoken?api-version=2.0" ACTIONS_ID_TOKEN_REQUEST_TOKEN=bench

# Each exchange alone (one request to the stand-in), for the ratio.
hyperfine --warmup 2 --runs 10 --export-markdown "$work/exchanges.md" \
  -n 'one exchange (300 ms)' "curl -s -o /dev/null '$url/idtoken?audience=x'" \
  -n 'github --ci (1 exchange)' "$bin login github --ci >/dev/null" \
  -n 'flakehub --ci (2 exchanges)' "$bin login flakehub --ci --base-url $url/cache >/dev/null" \
  -n 'prefix.dev --ci (2 exchanges)' "$bin login prefix.dev --ci --base-url $url >/dev/null"
cat "$work/exchanges.md"

# The watcher with nothing due for 30 s: its CPU time (user + system, clock ticks).
"$bin" refresh --ci --watch >/dev/null 2>&1 &
watcher=$!
sleep 30
read -r -a stat < "/proc/$watcher/stat"
echo "watcher CPU over 30 s idle: $(( stat[13] + stat[14] )) ticks of $(getconf CLK_TCK) a second"
kill "$watcher"
