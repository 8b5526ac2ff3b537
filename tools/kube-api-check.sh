#!/usr/bin/env bash
# Kubernetes mode against a real API server: a manual check, not part of `npm test`.
#
# CI reaches only npm and apt, and neither has kube-apiserver or etcd, so this builds both (Kubernetes v1.35.4,
# etcd v3.6.13) from the Go module proxy once, into ~/.cache/weft/kube-api, and runs them on loopback. Then:
#   - installs the Helm chart (strict field validation of every object, CRD schemas, the GatewayClass);
#   - runs the built controlplane with the istiod service account's token (the chart's RBAC), and checks the
#     self-signed root in the Secret istio-ca-secret, the istio-ca-root-cert ConfigMaps, a waypoint Gateway's
#     ServiceAccount/Service/Deployment and status, and validation messages on a bad AuthorizationPolicy's status;
#   - runs a ztunnel (loopback mode) with a pod-bound istio-ca token of the ztunnel service account: a certificate
#     for a service account with a pod on its node, a refusal for one without (TokenReview, node authorizer);
#   - runs a waypoint with its own service account's token: its certificate and xDS, then ready;
#   - runs the cni-node agent with the istio-cni token: enrolling a pod (one network namespace this run creates)
#     writes the ambient.istio.io/redirection annotation, un-labelling the namespace removes it; stopped while its
#     DaemonSet remains it leaves the plugin installed (in this run's CNI directories), and once it is gone, not;
#     a pod older than the agent is found through a stand-in for the node's /proc and enrolled;
#   - starts a second controlplane replica: the first keeps the leader Lease; when it stops, the second takes the
#     Lease and the cluster writers (a new waypoint Gateway, a new namespace's root), with the same root;
#   - upgrades the release to two controlplane replicas, and uninstalls it: the Istio CRDs and objects stay.
# No pods run (there is no kubelet); objects are created directly. Ends with `N passed, N failed`.
#
#   sudo bash tools/kube-api-check.sh        (after `bash tools/setup.sh --no-cluster`; needs root, go, openssl)
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)

check_name=kube-api-check
# shellcheck source=tools/kube-api-lib.sh
source tools/kube-api-lib.sh
helm="$root_dir/node_modules/.cache/weft/helm"

[ "$(id -u)" -eq 0 ] || { echo "kube-api-check: run as root (the cni-node step uses a network namespace)" >&2; exit 1; }
for tool in go openssl curl ip; do command -v "$tool" >/dev/null || { echo "kube-api-check: needs $tool" >&2; exit 1; }; done
[ -x "$helm" ] || { echo "kube-api-check: helm missing: bash tools/install-helm.sh" >&2; exit 1; }
for app in controlplane ztunnel cni-node meshctl; do
  [ -f "apps/$app/dist/main.js" ] || { echo "kube-api-check: build first: npx nx run-many -t build" >&2; exit 1; }
done

kube_api_binaries
gateway_crds=$(go_module_dir "sigs.k8s.io/gateway-api@v$GATEWAY_API_VERSION")/config/crd/standard
kube_api_run
kube_api_start

# --- the chart ----------------------------------------------------------------------------------------------------
k apply --server-side -f "$gateway_crds" >/dev/null
check "helm install on a real API server" "$helm" install weft deploy/helm/weft -n istio-system --create-namespace
check "the GatewayClass istio-waypoint exists (Gateway API detected)" k get gatewayclass istio-waypoint

# --- the controlplane, as the chart runs it, with the istiod service account ------------------------------------
kubeconfig "$(k create token istiod -n istio-system --duration 1h)" "$run/istiod.kubeconfig"
mkdir -p "$run/cacerts"
xds_port=$(free_port); plain_port=$(free_port); mon_port=$(free_port)
controlplane() {  # controlplane NAME XDS_TLS_PORT PLAINTEXT_PORT MONITORING_PORT: a replica as the chart runs it
  start "$1" env KUBECONFIG="$run/istiod.kubeconfig" WEFT_CONFIG_SOURCE=kubernetes POD_NAMESPACE=istio-system POD_NAME="$1" \
    WEFT_CA_DIR="$run/cacerts" WEFT_CA_SECRET=istio-ca-secret CA_TRUSTED_NODE_ACCOUNTS=istio-system/ztunnel \
    WEFT_LISTEN_ADDRESS=127.0.0.1 WEFT_XDS_TLS_PORT="$2" WEFT_XDS_PLAINTEXT_PORT="$3" \
    WEFT_MONITORING_PORT="$4" node apps/controlplane/dist/main.js
  wait_for "the controlplane $1" 60 curl -sf "http://127.0.0.1:$4/ready"
}
controlplane istiod-a "$xds_port" "$plain_port" "$mon_port"
lease_holder() { k get lease -n istio-system weft-controlplane-leader -o jsonpath='{.spec.holderIdentity}'; }
check "the controlplane takes the leader Lease" eventually is istiod-a lease_holder
check "the self-signed root is in Secret istio-ca-secret (type istio.io/ca-root)" \
  eventually is istio.io/ca-root k get secret -n istio-system istio-ca-secret -o jsonpath='{.type}'
root_of() { k get cm -n "$1" istio-ca-root-cert -o jsonpath='{.data.root-cert\.pem}' 2>/dev/null; }
published() { [ -n "$(root_of default)" ] && [ -n "$(root_of istio-system)" ] && [ -n "$(root_of kube-system)" ]; }
check "istio-ca-root-cert is published in default, istio-system and kube-system" eventually published
check "… but not in kube-public" fails k get cm -n kube-public istio-ca-root-cert

k create namespace shop >/dev/null
node apps/meshctl/dist/main.js waypoint generate -n shop | k apply -f - >/dev/null
check "a waypoint Gateway gets its ServiceAccount, Service and Deployment" eventually k get sa/waypoint svc/waypoint deploy/waypoint -n shop
programmed() { k get gateway -n shop waypoint -o jsonpath='{.status.conditions[?(@.type=="Programmed")].status}'; }
check "… and, as istiod, is not Programmed before a waypoint pod is Ready" eventually is False programmed
# The pod its Deployment would run (no kubelet here): Ready, selected by the waypoint Service.
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: waypoint-a, namespace: shop, labels: {gateway.networking.k8s.io/gateway-name: waypoint}}\nspec: {serviceAccountName: waypoint, nodeName: node-a, containers: [{name: w, image: weft/waypoint}]}\n' | k apply -f - >/dev/null
k patch pod -n shop waypoint-a --subresource=status --type=merge -p '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}' >/dev/null
check "… then Programmed=True" eventually is True programmed
gateway_addresses() { k get gateway -n shop waypoint -o jsonpath='{range .status.addresses[*]}{.type}={.value} {end}'; }
check "… with its Service's IP and hostname as addresses" \
  eventually is "IPAddress=$(k get svc -n shop waypoint -o jsonpath='{.spec.clusterIP}') Hostname=waypoint.shop.svc.cluster.local " gateway_addresses
check "… and its pods mount the istio-ca token and the root" \
  is "istio-token istiod-ca-cert" k get deploy -n shop waypoint -o jsonpath='{.spec.template.spec.volumes[*].name}'

printf 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: bad, namespace: shop}\nspec:\n  rules:\n  - to:\n    - operation: {ports: ["eighty"]}\n' | k apply -f - >/dev/null
check "a bad AuthorizationPolicy gets validation messages naming the field in its status" \
  eventually is "spec.rules[0].to[0].operation.ports[0]" k get authorizationpolicy -n shop bad -o jsonpath='{.status.validationMessages[0].field}'


# --- the CA: TokenReview of a pod-bound token, node authorization of impersonation ------------------------------
k create serviceaccount sleep -n default >/dev/null
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: ztunnel-a, namespace: istio-system}\nspec: {serviceAccountName: ztunnel, nodeName: node-a, containers: [{name: z, image: weft/ztunnel}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: sleep-a, namespace: default}\nspec: {serviceAccountName: sleep, nodeName: node-a, containers: [{name: s, image: curlimages/curl}]}\n' | k apply -f - >/dev/null
k create token ztunnel -n istio-system --audience istio-ca --bound-object-kind Pod --bound-object-name ztunnel-a \
  --bound-object-uid "$(k get pod -n istio-system ztunnel-a -o jsonpath='{.metadata.uid}')" >"$run/ztunnel.token"
root_of istio-system >"$run/root-cert.pem"
base=$((RANDOM % 200 + 20))
start ztunnel env WEFT_ZTUNNEL_MODE=loopback NODE_NAME=node-a \
  WEFT_LOOPBACK_PODS="u1=default/sleep-a/sleep@127.0.0.$base;u2=default/ghost/ghost@127.0.0.$((base + 1))" \
  XDS_ADDRESS="127.0.0.1:$xds_port" XDS_SERVER_NAME=istiod.istio-system.svc XDS_ROOT_CA="$run/root-cert.pem" \
  WEFT_TOKEN_FILE="$run/ztunnel.token" ADMIN_PORT="$(free_port)" STATS_PORT="$(free_port)" READINESS_PORT="$(free_port)" \
  WEFT_LISTEN_ADDRESS=127.0.0.1 node apps/ztunnel/dist/main.js
check "ztunnel gets a certificate for sleep (a pod on its node)" eventually grep -q 'sa/sleep.*workload certificate issued' "$run/ztunnel.log"
check "… and is refused one for ghost (no pod on its node)" eventually grep -q 'no running pod with default/ghost on node node-a' "$run/istiod-a.log"

# --- a waypoint with its own service account's token (no impersonation) ------------------------------------------
k create token waypoint -n shop --audience istio-ca --bound-object-kind Pod --bound-object-name waypoint-a \
  --bound-object-uid "$(k get pod -n shop waypoint-a -o jsonpath='{.metadata.uid}')" >"$run/waypoint.token"
waypoint_ready=$(free_port)
start waypoint env POD_NAME=waypoint-a POD_NAMESPACE=shop SERVICE_ACCOUNT=waypoint GATEWAY_NAME=waypoint NODE_NAME=node-a \
  INSTANCE_IP="127.0.0.$((base + 2))" XDS_ADDRESS="127.0.0.1:$xds_port" XDS_SERVER_NAME=istiod.istio-system.svc \
  XDS_ROOT_CA="$run/root-cert.pem" WEFT_TOKEN_FILE="$run/waypoint.token" HBONE_PORT="$(free_port)" ADMIN_PORT="$(free_port)" \
  STATS_PORT="$(free_port)" READINESS_PORT="$waypoint_ready" WEFT_LISTEN_ADDRESS=127.0.0.1 node apps/waypoint/dist/main.js
check "a waypoint gets its own certificate and xDS, and turns ready" eventually curl -sf "http://127.0.0.1:$waypoint_ready/healthz/ready"

# --- the cni-node agent with the istio-cni service account -------------------------------------------------------
kubeconfig "$(k create token istio-cni -n istio-system --duration 1h)" "$run/cni.kubeconfig"
k label namespace default istio.io/dataplane-mode=ambient >/dev/null
mkdir -p "$run/cni" "$run/cni-bin" "$run/cni-net" "$run/proc/1/ns"
# The node's /proc as the agent reads it, for a pod older than the agent: PID 1 in the node's netns, and the pause
# process of sleep-old (below) in a network namespace of this run, with the pod's UID in its cgroup.
ln -s /proc/1/ns/net "$run/proc/1/ns/net"
echo '{"cniVersion": "1.0.0", "name": "node", "plugins": [{"type": "ptp"}]}' >"$run/cni-net/10-node.conflist"
cni_node() {  # the agent as the chart runs it, with this run's CNI directories standing in for the node's
  start cni-node env KUBECONFIG="$run/cni.kubeconfig" WEFT_CONFIG_SOURCE=kubernetes NODE_NAME=node-a POD_NAMESPACE=istio-system \
    WEFT_CNI_DAEMONSET=istio-cni-node WEFT_CNI_PLUGIN_RUNTIME=host WEFT_CNI_BIN_DIR="$run/cni-bin" WEFT_CNI_NET_DIR="$run/cni-net" \
    WEFT_HOST_PROBE_RULES=false WEFT_CNI_RUN_DIR="$run/cni" WEFT_ZDS_SOCKET="$run/cni/zds.sock" WEFT_HOST_PROC="$run/proc" \
    WEFT_HEALTH_PORT="$(free_port)" WEFT_LISTEN_ADDRESS=127.0.0.1 node apps/cni-node/dist/main.js
  local serving=$(( $(grep -c 'cni-node agent serving' "$run/cni-node.log" 2>/dev/null || true) + 1 ))
  wait_for "the cni-node agent" 30 bash -c "[ \$(grep -c 'cni-node agent serving' '$run/cni-node.log') -ge $serving ]"
}
installed() { [ -x "$run/cni-bin/weft-cni" ] && grep -q '"weft-cni"' "$run/cni-net/10-node.conflist"; }
cni_node
netns="${prefix}-pod"
ip netns add "$netns" && namespaces+=("$netns") && ip -n "$netns" link set lo up
pod_uid=$(k get pod -n default sleep-a -o jsonpath='{.metadata.uid}')
reply=$(curl -s --unix-socket "$run/cni/pluginevent.sock" -H 'content-type: application/json' -X POST http://agent/cmdadd \
  -d "{\"netns\":\"/var/run/netns/$netns\",\"containerId\":\"c1\",\"podName\":\"sleep-a\",\"podNamespace\":\"default\",\"podUid\":\"$pod_uid\",\"ips\":[\"10.250.0.5\"]}")
check "the agent enrolls an ambient pod on its node" has '"ambient":true' "$reply"
redirection() { k get pod -n default sleep-a -o jsonpath='{.metadata.annotations.ambient\.istio\.io/redirection}'; }
check "… and annotates it (pending until a ztunnel takes it)" eventually is pending redirection
k label namespace default istio.io/dataplane-mode- >/dev/null
check "un-labelling the namespace removes the annotation" eventually is "" redirection

# A pod that existed before the agent: no CNI ADD, found through /proc when its namespace is labelled.
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: sleep-old, namespace: default}\nspec: {serviceAccountName: sleep, nodeName: node-a, containers: [{name: s, image: curlimages/curl}]}\n' | k apply -f - >/dev/null
old_netns="${prefix}-old"
ip netns add "$old_netns" && namespaces+=("$old_netns") && ip -n "$old_netns" link set lo up
mkdir -p "$run/proc/4242/ns"
echo "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod$(k get pod -n default sleep-old -o jsonpath='{.metadata.uid}' | tr - _).slice/cri-containerd-0.scope" >"$run/proc/4242/cgroup"
ln -s "/var/run/netns/$old_netns" "$run/proc/4242/ns/net"
old_redirection() { k get pod -n default sleep-old -o jsonpath='{.metadata.annotations.ambient\.istio\.io/redirection}'; }
k label namespace default istio.io/dataplane-mode=ambient >/dev/null
check "a pod started before the agent is found through /proc and enrolled when its namespace is labelled" eventually is pending old_redirection
check "… with the redirection rules in its network namespace" eventually bash -c "ip netns exec '$old_netns' iptables-save | grep -q ISTIO_OUTPUT"
k label namespace default istio.io/dataplane-mode- >/dev/null
check "… and unenrolled when the label goes" eventually is "" old_redirection
stop "$cni_node_pid"
check "a stopping agent whose DaemonSet remains (a restart) leaves the plugin installed" installed
k delete daemonset -n istio-system istio-cni-node >/dev/null
cni_node
stop "$cni_node_pid"
check "one whose DaemonSet is gone (an uninstall) removes it" fails installed

# --- a second replica: it follows, then takes over the writers; the root survives ----------------------------------
before=$(root_of shop)
controlplane istiod-b "$(free_port)" "$(free_port)" "$(free_port)"
sleep 3
check "a second replica serves but does not take the Lease from the leader" is istiod-a lease_holder
stop "$istiod_a_pid"
check "when the leader stops, the second replica takes the Lease" eventually is istiod-b lease_holder
k create namespace shop2 >/dev/null
node apps/meshctl/dist/main.js waypoint generate -n shop2 | k apply -f - >/dev/null
check "… and runs the waypoint controller: a new Gateway gets its objects" eventually k get sa/waypoint svc/waypoint deploy/waypoint -n shop2
check "… and the root publisher: the new namespace gets the root" eventually is "$before" root_of shop2
check "the second replica loaded the same root" eventually is "$before" root_of shop
secret_root() { k get secret -n istio-system istio-ca-secret -o jsonpath='{.data.ca-cert\.pem}' | base64 -d; }
check "… and the root in the Secret is the published one" is "$before" secret_root

# --- the chart's lifecycle -------------------------------------------------------------------------------------------
check "helm upgrade to two controlplane replicas" "$helm" upgrade weft deploy/helm/weft -n istio-system --set controlplane.replicas=2
check "… sets them" is 2 k get deploy -n istio-system istiod -o jsonpath='{.spec.replicas}'
# An uninstall deletes istiod's Deployment with its RBAC; the replica run here stops first, as its pod would.
stop "$istiod_b_pid"
check "helm uninstall" "$helm" uninstall weft -n istio-system
check "… keeps the Istio CRDs and the objects in them" k get authorizationpolicy -n shop bad

check "no request of the four components was refused by RBAC" bash -c "! grep -l -E 'Forbidden|\"code\":403' '$run'/istiod-a.log '$run'/istiod-b.log '$run'/cni-node.log '$run'/ztunnel.log '$run'/waypoint.log"
kube_api_summary
