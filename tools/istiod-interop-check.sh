#!/usr/bin/env bash
# Weft against Istio's own istiod, istio-cni ZDS server and clients: a manual check, not part of `npm test`.
#
# The compatibility contract says a real Istio component could take Weft's place on the other end of each protocol.
# The tests in `npm test` speak those protocols between Weft's own components, so a field number both sides got
# wrong the same way would pass them. This check puts Istio's own code, built from Istio's source at ISTIO_VERSION via
# the Go module proxy (which CI cannot reach), on the other end:
#   - istiod runs with ambient mode on, against a real API server (tools/kube-api-lib.sh), with Istio's CRDs;
#   - two Weft ztunnels (loopback mode, nodes node-a and node-b) connect to its 15012 with pod-bound `istio-ca`
#     tokens of the ztunnel service account, as they would in a cluster;
#   - checks: certificates for the pods on each node from istiod's CA (node authorization by istiod), and one
#     refused for a service account with no pod on the node; workloads and services from istiod's
#     `istio.workload.Address` resources in ztunnel's config_dump; a request over HBONE between the two ztunnels
#     with istiod's certificates, seen with the client's SPIFFE identity in the server side's metrics; and L4
#     AuthorizationPolicies translated by istiod (`istio.security.Authorization`) enforced by ztunnel: a DENY, its
#     removal, and an ALLOW for someone else;
#   - ZDS: Istio's own istio-cni node-agent server (tools/istiod-interop/zds_harness_test.go compiles it, with a
#     line protocol to drive it) hands a pod's network namespace, one this run creates, to a third Weft ztunnel in
#     in-pod mode: hello and snapshot, AddWorkload with the netns fd (listeners inside the pod's netns), a ztunnel
#     restart answered by Istio's snapshot, DelWorkload;
#   - the other way round, once istiod is stopped: Weft's controlplane takes over istiod's root from
#     istio-ca-secret, and Istio's own clients (tools/istiod-interop/istio_client_main.go: pilot-agent's CA client
#     and the delta xDS client with Istio's generated workload API types) get a certificate from it and read its
#     Address and Authorization resources, with no field Istio's types do not know.
# No pods run (there is no kubelet): Pod objects are created and given a Ready status by hand, at loopback addresses
# where the ztunnels stand in for them. Ends with `N passed, N failed`.
#
#   sudo bash tools/istiod-interop-check.sh   (after `bash tools/setup.sh --no-cluster`; needs root, go, openssl, curl, ip)
set -euo pipefail
cd "$(dirname "$0")/.."

check_name=istiod-interop-check
# shellcheck source=tools/kube-api-lib.sh
source tools/kube-api-lib.sh
# Istio publishes no semver tags for Go, so the module proxy serves commits: this is master of 2026-08-27.
ISTIO_VERSION=v0.0.0-20260827124520-eed52ebb66ad
istiod_bin="$(dirname "$cache")/istiod-$ISTIO_VERSION/pilot-discovery"

[ "$(id -u)" -eq 0 ] || { echo "$check_name: run as root (the ZDS step uses a network namespace)" >&2; exit 1; }
for tool in go openssl curl ip ss; do command -v "$tool" >/dev/null || { echo "$check_name: needs $tool" >&2; exit 1; }; done
[ -f apps/ztunnel/dist/main.js ] || { echo "$check_name: build first: npx nx run-many -t build" >&2; exit 1; }

kube_api_binaries
istio_src=$(go_module_dir "istio.io/istio@$ISTIO_VERSION")
if [ ! -x "$istiod_bin" ]; then
  echo "$check_name: building Istio's pilot-discovery ($ISTIO_VERSION) from the Go module proxy"
  mkdir -p "$(dirname "$istiod_bin")"
  (cd "$istio_src" && GOFLAGS=-mod=mod go build -o "$istiod_bin" ./pilot/cmd/pilot-discovery)
fi
# The two harnesses are compiled inside a copy of Istio's module (go refuses to add files to the module cache): the
# ZDS server is internal to its nodeagent package, and the clients use its internal packages. Rebuilt when they
# change.
harnesses="$(dirname "$istiod_bin")/harnesses-$(cat tools/istiod-interop/*.go | sha256sum | cut -c1-12)"
zds_harness="$harnesses/zds-server"
istio_client="$harnesses/istio-client"
if [ ! -x "$zds_harness" ] || [ ! -x "$istio_client" ]; then
  echo "$check_name: building the harnesses inside Istio's module"
  build=$(mktemp -d)
  cp -r "$istio_src" "$build/istio" && chmod -R u+w "$build/istio"
  cp tools/istiod-interop/zds_harness_test.go "$build/istio/cni/pkg/nodeagent/weft_zds_harness_test.go"
  mkdir -p "$build/istio/weftinterop" && cp tools/istiod-interop/istio_client_main.go "$build/istio/weftinterop/main.go"
  mkdir -p "$harnesses"
  (cd "$build/istio" && GOFLAGS=-mod=mod go test -c -o "$zds_harness" ./cni/pkg/nodeagent \
    && GOFLAGS=-mod=mod go build -o "$istio_client" ./weftinterop)
  rm -rf "$build"
fi
gateway_crds=$(go_module_dir "sigs.k8s.io/gateway-api@v$GATEWAY_API_VERSION")/config/crd/standard
kube_api_run
kube_api_start

# --- Istio's CRDs and istiod ---------------------------------------------------------------------------------------
k apply --server-side -f "$istio_src/manifests/charts/base/files/crd-all.gen.yaml" >/dev/null
k apply --server-side -f "$gateway_crds" >/dev/null
k create namespace istio-system >/dev/null
k create serviceaccount ztunnel -n istio-system >/dev/null
printf 'trustDomain: cluster.local\nrootNamespace: istio-system\n' >"$run/mesh.yaml"
http_port=$(free_port); xds_port=$(free_port); plain_port=$(free_port)
# istiod writes its serving certificate under ./var/run/secrets: run it in the run directory.
start istiod env -C "$run" POD_NAMESPACE=istio-system POD_NAME=istiod-0 PILOT_ENABLE_AMBIENT=true \
  CA_TRUSTED_NODE_ACCOUNTS=istio-system/ztunnel INJECTION_WEBHOOK_CONFIG_NAME= VALIDATION_WEBHOOK_CONFIG_NAME= \
  PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER=false \
  "$istiod_bin" discovery --kubeconfig "$KUBECONFIG" --meshConfig "$run/mesh.yaml" --domain cluster.local \
  --httpAddr "127.0.0.1:$http_port" --httpsAddr "127.0.0.1:$(free_port)" --grpcAddr "127.0.0.1:$plain_port" \
  --secureGRPCAddr "127.0.0.1:$xds_port" --monitoringAddr "127.0.0.1:$(free_port)"
wait_for "istiod" 120 curl -sf "http://127.0.0.1:$http_port/ready"
root_of() { k get cm -n "$1" istio-ca-root-cert -o jsonpath='{.data.root-cert\.pem}' 2>/dev/null; }
published() { [ -n "$(root_of default)" ]; }
check "istiod publishes its root in istio-ca-root-cert" eventually published
root_of istio-system >"$run/root-cert.pem"

# --- the mesh's objects: two pods on two nodes, a Service -----------------------------------------------------------
base=$((RANDOM % 200 + 20))
sleep_ip="127.0.$base.2"; httpbin_ip="127.0.$base.3"; vip="10.96.$base.80"
k label namespace default istio.io/dataplane-mode=ambient >/dev/null
k create serviceaccount sleep -n default >/dev/null
k create serviceaccount httpbin -n default >/dev/null
pod() { # pod NAMESPACE NAME SERVICE_ACCOUNT NODE APP IP: a Pod object, Running and Ready at IP
  printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: %s, labels: {app: %s}, annotations: {ambient.istio.io/redirection: enabled}}\nspec: {serviceAccountName: %s, nodeName: %s, containers: [{name: c, image: weft/none}]}\n' \
    "$2" "$1" "$5" "$3" "$4" | k apply -f - >/dev/null
  k patch pod -n "$1" "$2" --subresource=status --type=merge -p \
    "{\"status\":{\"phase\":\"Running\",\"hostIP\":\"127.0.0.1\",\"podIP\":\"$6\",\"podIPs\":[{\"ip\":\"$6\"}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}" >/dev/null
}
pod istio-system ztunnel-a ztunnel node-a ztunnel "127.0.$base.10"
pod istio-system ztunnel-b ztunnel node-b ztunnel "127.0.$base.11"
pod default sleep-a sleep node-a sleep "$sleep_ip"
pod default httpbin-b httpbin node-b httpbin "$httpbin_ip"
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: httpbin, namespace: default}\nspec:\n  clusterIP: %s\n  selector: {app: httpbin}\n  ports: [{name: http, port: 8000, targetPort: 8080}]\n' "$vip" | k apply -f - >/dev/null

# The app behind httpbin-b: answers every request with its name.
start app node -e "require('http').createServer((q,s)=>s.end('httpbin-b')).listen(8080,'$httpbin_ip')"

# --- two Weft ztunnels, each with a pod-bound istio-ca token of the ztunnel service account -----------------------
ztunnel() { # ztunnel NAME NODE ZTUNNEL_POD LOOPBACK_PODS [ENV=VALUE...]: loopback mode unless ENV says otherwise
  local token="$run/$1.token" name=$1 node=$2 pod=$3 loopback=$4
  shift 4
  k create token ztunnel -n istio-system --audience istio-ca --bound-object-kind Pod --bound-object-name "$pod" \
    --bound-object-uid "$(k get pod -n istio-system "$pod" -o jsonpath='{.metadata.uid}')" >"$token"
  local admin stats
  admin=$(free_port); stats=$(free_port)
  eval "${name//-/_}_admin=$admin"; eval "${name//-/_}_stats=$stats"
  start "$name" env WEFT_ZTUNNEL_MODE=loopback NODE_NAME="$node" POD_NAME="$pod" POD_NAMESPACE=istio-system \
    INSTANCE_IP="$(k get pod -n istio-system "$pod" -o jsonpath='{.status.podIP}')" WEFT_LOOPBACK_PODS="$loopback" \
    XDS_ADDRESS="127.0.0.1:$xds_port" XDS_SERVER_NAME=istiod.istio-system.svc XDS_ROOT_CA="$run/root-cert.pem" \
    WEFT_TOKEN_FILE="$token" ADMIN_PORT="$admin" STATS_PORT="$stats" READINESS_PORT="$(free_port)" \
    WEFT_LISTEN_ADDRESS=127.0.0.1 "$@" node apps/ztunnel/dist/main.js
}
ztunnel ztunnel-a node-a ztunnel-a \
  "Kubernetes//Pod/default/sleep-a=default/sleep-a/sleep@$sleep_ip>$vip:8000;Kubernetes//Pod/default/ghost=default/ghost/httpbin@127.0.$base.4"
ztunnel ztunnel-b node-b ztunnel-b "Kubernetes//Pod/default/httpbin-b=default/httpbin-b/httpbin@$httpbin_ip"

dump() { curl -sf "http://127.0.0.1:$1/config_dump"; }
check "ztunnel on node-a gets a certificate for sleep from istiod's CA" eventually grep -q 'sa/sleep.*workload certificate issued' "$run/ztunnel-a.log"
check "ztunnel on node-b gets one for httpbin" eventually grep -q 'sa/httpbin.*workload certificate issued' "$run/ztunnel-b.log"
same_root() { dump "$ztunnel_a_admin" | node -e '
  const fs = require("fs");
  const d = JSON.parse(fs.readFileSync(0, "utf8"));
  const c = (d.certificates ?? []).find((x) => x.identity.endsWith("/sa/sleep"));
  process.exit((c?.rootCerts?.[0]?.pem ?? "").trim() === fs.readFileSync(process.argv[1], "utf8").trim() ? 0 : 1);' "$run/root-cert.pem"; }
check "… chained to the root istiod publishes" same_root
check "istiod refuses ztunnel on node-a a certificate for httpbin (its only pod is on node-b)" \
  eventually grep -q '"identity":"spiffe://cluster.local/ns/default/sa/httpbin".*impersonation authentication failure' "$run/ztunnel-a.log"

workload_of() { dump "$ztunnel_a_admin" | node -e '
  const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const w = (d.workloads ?? []).find((x) => x.uid === process.argv[1]);
  process.stdout.write(w === undefined ? "" : `${w.protocol} ${w.node} ${w.serviceAccount} ${w.workloadIps.join(",")}`);' "$1"; }
check "ztunnel reads istiod's Address resources: httpbin-b as an HBONE workload on node-b" \
  eventually is "HBONE node-b httpbin $httpbin_ip" workload_of Kubernetes//Pod/default/httpbin-b
service_of() { dump "$ztunnel_a_admin" | node -e '
  const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const s = (d.services ?? []).find((x) => x.hostname === "httpbin.default.svc.cluster.local");
  process.stdout.write(s === undefined ? "" : `${s.vips.map((v) => v.replace(/^[^/]*\//, "")).join(",")} ${Object.keys(s.endpoints ?? {}).length}`);'; }
check "… and the Service with its VIP and one endpoint" eventually is "$vip 1" service_of

request() { curl -s --max-time 5 "http://$sleep_ip:15001/" 2>/dev/null; }
check "sleep reaches httpbin over HBONE between the two ztunnels, with istiod's certificates" eventually is httpbin-b request
inbound_principal() { curl -sf "http://127.0.0.1:$ztunnel_b_stats/metrics" | grep '^istio_tcp_connections_opened_total{' | grep 'reporter="destination"' \
  | grep -q 'source_principal="spiffe://cluster.local/ns/default/sa/sleep".*connection_security_policy="mutual_tls"'; }
check "… and the server side counts it from spiffe://cluster.local/ns/default/sa/sleep over mutual TLS" eventually inbound_principal

# --- L4 authorization, translated by istiod ------------------------------------------------------------------------
policy() { # policy NAME ACTION PRINCIPAL
  printf 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: %s, namespace: default}\nspec:\n  selector: {matchLabels: {app: httpbin}}\n  action: %s\n  rules: [{from: [{source: {principals: ["%s"]}}]}]\n' "$1" "$2" "$3" | k apply -f - >/dev/null
}
refused() { [ -z "$(request)" ]; }
policy deny-sleep DENY cluster.local/ns/default/sa/sleep
check "a DENY for sleep's principal reaches ztunnel as istio.security.Authorization and refuses the request" eventually refused
check "… logged as Istio's ztunnel does, naming istiod's policy" \
  eventually grep -q '"connection complete".*"error":"connection closed due to policy rejection: explicitly denied by: default/deny-sleep"' "$run/ztunnel-b.log"
k delete authorizationpolicy -n default deny-sleep >/dev/null
check "deleting it lets the request through again" eventually is httpbin-b request
policy allow-other ALLOW cluster.local/ns/default/sa/other
check "an ALLOW for another principal only refuses sleep" eventually refused
check "… as: allow policies exist, but none allowed" eventually grep -q 'policy rejection: allow policies exist, but none allowed' "$run/ztunnel-b.log"
k delete authorizationpolicy -n default allow-other >/dev/null
check "… until it is deleted" eventually is httpbin-b request

# --- ZDS: Istio's node-agent server hands a pod's network namespace to Weft's ztunnel in in-pod mode ------------
pod_netns="${prefix}-pod"
ip netns add "$pod_netns" && namespaces+=("$pod_netns")
pod_c_ip="10.250.$base.5"
ip -n "$pod_netns" link set lo up && ip -n "$pod_netns" addr add "$pod_c_ip/32" dev lo
pod istio-system ztunnel-c ztunnel node-c ztunnel "127.0.$base.12"
pod default sleep-c sleep node-c sleep "$pod_c_ip"
uid_c=$(k get pod -n default sleep-c -o jsonpath='{.metadata.uid}')

coproc ZDS { WEFT_ZDS_ADDR="$run/zds.sock" exec "$zds_harness" -test.run TestWeftZdsHarness; }
pids+=("$ZDS_PID")
zds_reply() { # the harness's next reply; Istio's log lines before it go to $run/zds.log
  local line
  while IFS= read -r -t 60 line <&"${ZDS[0]}"; do
    case $line in
      "weft-zds: "*) echo "${line#weft-zds: }"; return 0 ;;
      *) echo "$line" >>"$run/zds.log" ;;
    esac
  done
  echo "no reply"
}
zds() { echo "$*" >&"${ZDS[1]}"; zds_reply; }  # zds COMMAND...: one harness command, its reply
[ "$(zds_reply)" = "ok listening" ] || { echo "$check_name: the ZDS harness did not start" >&2; exit 1; }
in_pod_listeners() { ip netns exec "$pod_netns" ss -Hltn | awk '{print $4}' | grep -c -E ':(15001|15006|15008)$' || true; }

ztunnel ztunnel-c node-c ztunnel-c "" WEFT_ZTUNNEL_MODE=inpod INPOD_UDS="$run/zds.sock"
check "Weft's ztunnel (in-pod mode) says hello to istio-cni's ZDS server and takes its snapshot" is "ok connected" zds connected 1
check "an AddWorkload with sleep-c's netns fd is acked without error" \
  is "ok add" zds add "$uid_c" default sleep-c sleep "/var/run/netns/$pod_netns"
check "… and ztunnel listens on 15001, 15006 and 15008 inside that netns" eventually is 3 in_pod_listeners
check "… with sleep's certificate from istiod" eventually grep -q 'sa/sleep.*workload certificate issued' "$run/ztunnel-c.log"
sleep 2
check "istio-cni's keep-alive finds nothing unexpected from ztunnel (still one connection)" is "ok connected" zds connected 1
stop "$ztunnel_c_pid"
check "when ztunnel stops, its listeners leave the netns" eventually is 0 in_pod_listeners
ztunnel ztunnel-c node-c ztunnel-c "" WEFT_ZTUNNEL_MODE=inpod INPOD_UDS="$run/zds.sock"
check "a restarted ztunnel reconnects" is "ok connected" zds connected 1
check "… and istio-cni's snapshot gives it the pod back: listeners in the netns again" eventually is 3 in_pod_listeners
check "a DelWorkload is acked" is "ok delete" zds delete "$uid_c"
check "… and the listeners leave the netns" eventually is 0 in_pod_listeners

check "no ztunnel logged an xDS rejection (NACK) of istiod's resources" bash -c "! grep -i -E 'nack|rejected .*resource' '$run'/ztunnel-a.log '$run'/ztunnel-b.log '$run'/ztunnel-c.log"

# --- the other way round: Istio's own clients against Weft's controlplane, which takes over istiod's root ---------
policy deny-sleep DENY cluster.local/ns/default/sa/sleep
k create token sleep -n default --audience istio-ca --bound-object-kind Pod --bound-object-name sleep-a \
  --bound-object-uid "$(k get pod -n default sleep-a -o jsonpath='{.metadata.uid}')" >"$run/sleep.token"
# More objects, for the comparison of istiod's and Weft's resources below.
k apply -f tools/istiod-interop/mesh-objects.yaml >/dev/null
status() { # status NAMESPACE NAME IP READY: the status a kubelet would write
  k patch pod -n "$1" "$2" --subresource=status --type=merge -p \
    "{\"status\":{\"phase\":\"Running\",\"hostIP\":\"127.0.0.1\",\"podIP\":\"$3\",\"podIPs\":[{\"ip\":\"$3\"}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"$4\"}]}}" >/dev/null
}
status shop reviews-v1 "10.251.$base.11" True
status shop reviews-v2 "10.251.$base.12" True
status shop ratings-0 "10.251.$base.13" False
status legacy legacy-0 "10.251.$base.14" True
status shop waypoint-0 "10.251.$base.15" True
status shop opted-out "10.251.$base.16" True
status shop host-agent "127.0.0.1" True
status infra shared-0 "10.251.$base.17" True
# istiod counts a waypoint's instances from EndpointSlices, which the controller-manager (not running) would write.
printf 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: waypoint-0, namespace: shop, labels: {kubernetes.io/service-name: waypoint}}\naddressType: IPv4\nendpoints: [{addresses: ["%s"], conditions: {ready: true}, targetRef: {kind: Pod, name: waypoint-0, namespace: shop}}]\nports: [{name: mesh, port: 15008, protocol: TCP}, {name: status-port, port: 15021, protocol: TCP}]\n' \
  "10.251.$base.15" | k apply -f - >/dev/null
printf 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: shared-0, namespace: infra, labels: {kubernetes.io/service-name: shared}}\naddressType: IPv4\nendpoints: [{addresses: ["%s"], conditions: {ready: true}, targetRef: {kind: Pod, name: shared-0, namespace: infra}}]\nports: [{name: mesh, port: 15008, protocol: TCP}, {name: status-port, port: 15021, protocol: TCP}]\n' \
  "10.251.$base.17" | k apply -f - >/dev/null
gateway_address() { k get gateway -n shop waypoint -o jsonpath='{.status.addresses[*].value}'; }
check "istiod gives the waypoint Gateway its addresses once its pod is Ready" eventually is "$(k get svc -n shop waypoint -o jsonpath='{.spec.clusterIP}') waypoint.shop.svc.cluster.local" gateway_address
istio_client_run() { # istio_client_run XDS_PORT OUT: the client's view of a controlplane
  WEFT_XDS_ADDR="127.0.0.1:$1" WEFT_ROOT="$run/root-cert.pem" WEFT_APP_TOKEN="$run/sleep.token" \
    WEFT_ZTUNNEL_TOKEN="$run/ztunnel-a.token" WEFT_NODE_IP="127.0.$base.10" \
    timeout 90 "$istio_client" >"$2" 2>>"$run/istio-client.log" || true
}
sleep 3
istio_client_run "$xds_port" "$run/istiod-view.out"
istiod_root=$(root_of istio-system)
stop "$istiod_pid"
for pid in "$ztunnel_a_pid" "$ztunnel_b_pid" "$ztunnel_c_pid"; do stop "$pid"; done
mkdir -p "$run/cacerts"
weft_xds=$(free_port); weft_mon=$(free_port)
start controlplane env WEFT_CONFIG_SOURCE=kubernetes POD_NAMESPACE=istio-system POD_NAME=istiod-weft \
  WEFT_CA_DIR="$run/cacerts" WEFT_CA_SECRET=istio-ca-secret CA_TRUSTED_NODE_ACCOUNTS=istio-system/ztunnel \
  WEFT_LISTEN_ADDRESS=127.0.0.1 WEFT_XDS_TLS_PORT="$weft_xds" WEFT_XDS_PLAINTEXT_PORT="$(free_port)" \
  WEFT_MONITORING_PORT="$weft_mon" node apps/controlplane/dist/main.js
wait_for "Weft's controlplane" 60 curl -sf "http://127.0.0.1:$weft_mon/ready"
k create namespace later >/dev/null
check "Weft's controlplane takes over istiod's root from istio-ca-secret (and publishes it in a new namespace)" eventually is "$istiod_root" root_of later
istio_client_run "$weft_xds" "$run/istio-client.out"
# Go's protojson varies its spacing on purpose; the values checked below have no spaces.
client_line() { grep "^$1 " "$run/istio-client.out" | tr -d ' ' | sed "s/^$1/$1 /"; }
check "Istio's CA client (pilot-agent's) gets sleep's certificate from Weft's CA, chained to the root" \
  is "cert spiffe://cluster.local/ns/default/sa/sleep 2 verified" grep '^cert ' "$run/istio-client.out"
check "Istio's delta xDS client syncs both ambient types from Weft's controlplane" grep -qx synced "$run/istio-client.out"
address_has() { # address_has SELECT PATTERN...: the one Address line containing SELECT contains every PATTERN
  local line p
  line=$(client_line address | grep -F -- "$1"); shift
  [ "$(grep -c . <<<"$line")" -eq 1 ] || return 1
  for p in "$@"; do grep -q -F -- "$p" <<<"$line" || return 1; done
}
check "… and reads sleep-a as Istio's workloadapi.Workload: HBONE, on node-a, service account sleep" \
  address_has '"name":"sleep-a"' '"tunnelProtocol":"HBONE"' '"node":"node-a"' '"serviceAccount":"sleep"' '"namespace":"default"'
vip_b64=$(python3 -c 'import base64, ipaddress, sys; print(base64.b64encode(ipaddress.ip_address(sys.argv[1]).packed).decode())' "$vip")
check "… and the httpbin Service with its VIP and port 8000 → 8080" \
  address_has '"hostname":"httpbin.default.svc.cluster.local"' "\"address\":\"$vip_b64\"" '"servicePort":8000' '"targetPort":8080'
authorization_has() { local line p; line=$(client_line authorization | grep -F -- "$1"); shift; for p in "$@"; do grep -q -F -- "$p" <<<"$line" || return 1; done; }
check "… and the DENY as Istio's security.Authorization" \
  authorization_has '"name":"deny-sleep"' '"action":"DENY"' '"principals":[{"exact":"cluster.local/ns/default/sa/sleep"}]'

check "… with no field Istio's types do not know" bash -c "! grep -q '^unknown ' '$run/istio-client.out'"
same_view() { # the resources Istio's client read from istiod and from Weft, for the same objects: the differences
  python3 - "$run/istiod-view.out" "$run/istio-client.out" <<'PY'
import json, sys
def view(path):
    out = {}
    for line in open(path):
        kind, _, rest = line.partition(' ')
        if kind in ('address', 'authorization'):
            name, _, body = rest.partition(' ')
            out[f'{kind} {name}'] = json.loads(body)
    return out
istiod, weft = view(sys.argv[1]), view(sys.argv[2])
differences = [k for k in sorted(set(istiod) | set(weft)) if istiod.get(k) != weft.get(k)]
for k in differences:
    print(f'{k}\n  istiod: {json.dumps(istiod.get(k), sort_keys=True)}\n  weft:   {json.dumps(weft.get(k), sort_keys=True)}')
sys.exit(1 if differences or not istiod else 0)
PY
}
check "… and every resource equals what istiod served for the same objects" same_view
same_view >"$run/view-differences.txt" 2>&1 || true
check "… and no error" bash -c "! grep -q '^error ' '$run/istio-client.out'"
kube_api_summary
