# Shared by the manual checks against a real API server (tools/kube-api-check.sh, tools/istiod-interop-check.sh):
# sourced, never run. The caller sets `check_name` (for messages) and has already cd'd to the repository root.
#
#   kube_api_binaries            build kube-apiserver, kubectl (K8S_VERSION) and etcd (ETCD_VERSION) once, into $cache
#   kube_api_run                 a run directory, a per-run prefix, the cleanup trap (processes by PID, netns)
#   kube_api_start               etcd and the API server on loopback ports; $KUBECONFIG is its admin
#   start / stop / wait_for      background processes of this run
#   check / eventually / is / has / fails
#                                one assertion each, counted into the closing `N passed, N failed`
#   kube_api_summary             that line, and the exit status

K8S_VERSION=1.35.4
ETCD_VERSION=3.6.13
GATEWAY_API_VERSION=1.2.1
cache="${WEFT_KUBE_API_CACHE:-$HOME/.cache/weft/kube-api}/k8s-$K8S_VERSION-etcd-$ETCD_VERSION"

kube_api_binaries() {
  if [ -x "$cache/kube-apiserver" ] && [ -x "$cache/kubectl" ] && [ -x "$cache/etcd" ]; then return 0; fi
  echo "$check_name: building kube-apiserver, kubectl (v$K8S_VERSION) and etcd (v$ETCD_VERSION) from the Go module proxy"
  mkdir -p "$cache"
  local build src ldflags
  build=$(mktemp -d)
  src=$(go_module_dir "k8s.io/kubernetes@v$K8S_VERSION")
  cp -r "$src" "$build/kubernetes" && chmod -R u+w "$build/kubernetes"
  # Its go.work names the staging modules, which the zip lacks.
  rm -f "$build/kubernetes/go.work" "$build/kubernetes/go.work.sum"
  # The module zip leaves out staging/ (nested modules): use the published k8s.io/* v0.x of the same release.
  python3 - "$build/kubernetes/go.mod" "0.${K8S_VERSION#1.}" <<'PY'
import re, sys
path, version = sys.argv[1], sys.argv[2]
text = open(path).read()
staged = re.findall(r'^\t(\S+) => \./staging/\S+$', text, re.M)
text = re.sub(r'^\t\S+ => \./staging/\S+\n', '', text, flags=re.M)
text = re.sub(r'replace \(\s*\)\n?', '', text)
for module in staged:
    text = re.sub(r'(\t' + re.escape(module) + r') v0\.0\.0\b', r'\1 v' + version, text)
open(path, 'w').write(text)
PY
  # Without these the server reports v0.0.0 and the chart's kubeVersion refuses it.
  ldflags="-X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
  (cd "$build/kubernetes" && GOWORK=off GOFLAGS=-mod=mod go build -ldflags "$ldflags" -o "$cache/kube-apiserver" ./cmd/kube-apiserver \
    && GOWORK=off GOFLAGS=-mod=mod go build -ldflags "$ldflags" -o "$cache/kubectl" ./cmd/kubectl)
  mkdir -p "$build/etcd"
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' >"$build/etcd/main.go"
  (cd "$build/etcd" && go mod init weft.local/etcd >/dev/null 2>&1 && go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >/dev/null 2>&1 \
    && go mod tidy >/dev/null 2>&1 && go build -o "$cache/etcd" .)
  rm -rf "$build"
}

# go_module_dir MODULE@VERSION: where the Go module proxy's copy of it is unpacked (downloaded if needed).
go_module_dir() { go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'; }

kube_api_run() {
  run=$(mktemp -d "/tmp/weft-$check_name.XXXXXX")
  prefix="wka$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
  pids=()
  namespaces=()
  passed=0; failed=0; summarized=0
  exec 3>&1  # the script's stdout, for cleanup: a failing step may exit while its output is redirected
  trap kube_api_cleanup EXIT
}

kube_api_cleanup() {
  if [ "$summarized" -eq 0 ]; then
    echo "$check_name: a step failed before the end (see above)" >&3
    echo "$passed passed, $((failed + 1)) failed" >&3
    WEFT_KUBE_API_KEEP=1
  fi
  local pid ns
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done; kill -9 "$pid" 2>/dev/null || true; done
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  if [ -n "${WEFT_KUBE_API_KEEP:-}" ]; then echo "$check_name: logs kept in $run" >&3; else rm -rf "$run"; fi
}

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
start() { # start NAME CMD...: in the background, logging to $run/NAME.log, PID recorded as ${NAME}_pid
  local name=$1; shift
  "$@" >>"$run/$name.log" 2>&1 &
  pids+=("$!")
  disown "$!"  # stopped by PID in cleanup; no job notices
  eval "${name//-/_}_pid=$!"
}
wait_for() { # wait_for WHAT SECONDS CMD...
  local what=$1 seconds=$2; shift 2
  for _ in $(seq 1 $((seconds * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  echo "$check_name: timed out waiting for $what" >&2; return 1
}
stop() { kill "$1"; wait_for "process $1 to stop" 30 bash -c "! kill -0 $1"; }

kubeconfig() { # kubeconfig TOKEN FILE
  printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:%s", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: "%s"}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n' "$api_port" "$1" >"$2"
}
k() { "$cache/kubectl" "$@"; }

kube_api_start() {
  local etcd_port peer_port admin_token
  etcd_port=$(free_port); peer_port=$(free_port); api_port=$(free_port)
  openssl genrsa -out "$run/sa.key" 2048 2>/dev/null && openssl rsa -in "$run/sa.key" -pubout -out "$run/sa.pub" 2>/dev/null
  admin_token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  echo "$admin_token,admin,admin,system:masters" >"$run/tokens.csv"
  start etcd "$cache/etcd" --data-dir "$run/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" --initial-cluster "default=http://127.0.0.1:$peer_port"
  start apiserver "$cache/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" --bind-address 127.0.0.1 \
    --advertise-address 127.0.0.1 --secure-port "$api_port" --cert-dir "$run/certs" --allow-privileged=true \
    --service-account-issuer https://kubernetes.default.svc.cluster.local --service-account-key-file "$run/sa.pub" \
    --service-account-signing-key-file "$run/sa.key" --token-auth-file "$run/tokens.csv" --authorization-mode RBAC \
    --service-cluster-ip-range 10.96.0.0/16 --enable-priority-and-fairness=false
  kubeconfig "$admin_token" "$run/admin.kubeconfig"
  export KUBECONFIG="$run/admin.kubeconfig"
  wait_for "the API server" 90 k get --raw /readyz
}

check() { # check WHAT CMD...: one assertion
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); echo "ok   $what"; else failed=$((failed + 1)); echo "FAIL $what"; fi
}
eventually() { local i; for i in $(seq 1 60); do "$@" && return 0; sleep 0.25; done; return 1; }
has() { grep -q -- "$1" <<<"$2"; }
is() { local expected=$1; shift; [ "$("$@" 2>/dev/null)" = "$expected" ]; }  # is EXPECTED CMD...: its output
fails() { ! "$@" >/dev/null 2>&1; }

kube_api_summary() {
  [ "$failed" -eq 0 ] || WEFT_KUBE_API_KEEP=1
  summarized=1
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
