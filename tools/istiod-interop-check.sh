#!/usr/bin/env bash
# Weft's ztunnel against Istio's own istiod: a manual check, not part of `npm test`.
#
# The compatibility contract says a real Istio component could take Weft's place on the other end of each protocol.
# The tests in `npm test` speak those protocols between Weft's own components, so a field number both sides got
# wrong the same way would pass them. This check puts Istio's istiod (pilot-discovery, built from Istio's source at
# ISTIO_VERSION via the Go module proxy, which CI cannot reach) on the other end:
#   - istiod runs with ambient mode on, against a real API server (tools/kube-api-lib.sh), with Istio's CRDs;
#   - two Weft ztunnels (loopback mode, nodes node-a and node-b) connect to its 15012 with pod-bound `istio-ca`
#     tokens of the ztunnel service account, as they would in a cluster;
#   - checks: certificates for the pods on each node from istiod's CA (node authorization by istiod), and one
#     refused for a service account with no pod on the node; workloads and services from istiod's
#     `istio.workload.Address` resources in ztunnel's config_dump; a request over HBONE between the two ztunnels
#     with istiod's certificates, seen with the client's SPIFFE identity in the server side's metrics; and L4
#     AuthorizationPolicies translated by istiod (`istio.security.Authorization`) enforced by ztunnel: a DENY, its
#     removal, and an ALLOW for someone else.
# No pods run (there is no kubelet): Pod objects are created and given a Ready status by hand, at loopback addresses
# where the ztunnels stand in for them. Ends with `N passed, N failed`.
#
#   sudo bash tools/istiod-interop-check.sh   (after `bash tools/setup.sh --no-cluster`; needs go, openssl, curl)
set -euo pipefail
cd "$(dirname "$0")/.."

check_name=istiod-interop-check
# shellcheck source=tools/kube-api-lib.sh
source tools/kube-api-lib.sh
# Istio publishes no semver tags for Go, so the module proxy serves commits: this is master of 2026-08-27.
ISTIO_VERSION=v0.0.0-20260827124520-eed52ebb66ad
istiod_bin="$(dirname "$cache")/istiod-$ISTIO_VERSION/pilot-discovery"

for tool in go openssl curl; do command -v "$tool" >/dev/null || { echo "$check_name: needs $tool" >&2; exit 1; }; done
[ -f apps/ztunnel/dist/main.js ] || { echo "$check_name: build first: npx nx run-many -t build" >&2; exit 1; }

kube_api_binaries
istio_src=$(go_module_dir "istio.io/istio@$ISTIO_VERSION")
if [ ! -x "$istiod_bin" ]; then
  echo "$check_name: building Istio's pilot-discovery ($ISTIO_VERSION) from the Go module proxy"
  mkdir -p "$(dirname "$istiod_bin")"
  (cd "$istio_src" && GOFLAGS=-mod=mod go build -o "$istiod_bin" ./pilot/cmd/pilot-discovery)
fi
kube_api_run
kube_api_start

# --- Istio's CRDs and istiod ---------------------------------------------------------------------------------------
k apply --server-side -f "$istio_src/manifests/charts/base/files/crd-all.gen.yaml" >/dev/null
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
ztunnel() { # ztunnel NAME NODE ZTUNNEL_POD LOOPBACK_PODS
  local token="$run/$1.token"
  k create token ztunnel -n istio-system --audience istio-ca --bound-object-kind Pod --bound-object-name "$3" \
    --bound-object-uid "$(k get pod -n istio-system "$3" -o jsonpath='{.metadata.uid}')" >"$token"
  eval "${1//-/_}_admin=$(free_port)"; eval "${1//-/_}_stats=$(free_port)"
  local admin stats
  admin=$(eval echo "\$${1//-/_}_admin"); stats=$(eval echo "\$${1//-/_}_stats")
  start "$1" env WEFT_ZTUNNEL_MODE=loopback NODE_NAME="$2" POD_NAME="$3" POD_NAMESPACE=istio-system \
    INSTANCE_IP="$(k get pod -n istio-system "$3" -o jsonpath='{.status.podIP}')" WEFT_LOOPBACK_PODS="$4" \
    XDS_ADDRESS="127.0.0.1:$xds_port" XDS_SERVER_NAME=istiod.istio-system.svc XDS_ROOT_CA="$run/root-cert.pem" \
    WEFT_TOKEN_FILE="$token" ADMIN_PORT="$admin" STATS_PORT="$stats" READINESS_PORT="$(free_port)" \
    WEFT_LISTEN_ADDRESS=127.0.0.1 node apps/ztunnel/dist/main.js
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

check "neither ztunnel logged an xDS rejection (NACK) of istiod's resources" bash -c "! grep -i -E 'nack|rejected .*resource' '$run'/ztunnel-a.log '$run'/ztunnel-b.log"
kube_api_summary
