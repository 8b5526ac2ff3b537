#!/usr/bin/env bash
# Set up a fresh Debian machine for Weft: the system packages the mesh and its tests use, the npm
# dependencies (including native builds), a build of every project, and then a 2-node local cluster with the demo
# apps (sleep and httpbin in namespace default, enrolled in ambient mode). Safe to run again: a healthy cluster is
# kept, a broken one is replaced.
#
#   bash tools/setup.sh               everything, ending with the local cluster up
#   bash tools/setup.sh --no-cluster  packages, dependencies and build only (what CI uses before `npm test`)
set -euo pipefail
cd "$(dirname "$0")/.."

with_cluster=1
for arg in "$@"; do
  case "$arg" in
    --no-cluster) with_cluster=0 ;;
    *) echo "setup: unknown argument $arg (use --no-cluster)" >&2; exit 2 ;;
  esac
done

# System packages: network namespaces and redirection (iproute2, iptables, nftables), the reference CNI
# plugins the local cluster chains (containernetworking-plugins), ipset for the node probe rules, and openssl,
# which the identity tests use to check issued certificates with the real tool; tcpdump (mTLS on the wire) and
# prometheus (its promtool checks the /metrics output) for the mesh tests; iperf3 for the data-path benchmark baseline;
# unzip, which unpacks helm for the chart tests (tools/install-helm.sh).
APT_PACKAGES=(iproute2 iptables nftables ipset containernetworking-plugins openssl ca-certificates tcpdump prometheus iperf3 unzip)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js 20 or newer is required (found $(node -v))" >&2
  exit 1
fi

export NX_DAEMON=false NX_NO_CLOUD=true
# `npm install` against the committed lock file rather than `npm ci`: the registry these machines use lacks some
# other platforms' optional binaries (e.g. @bufbuild/buf-darwin-arm64), which the lock file therefore cannot list,
# and `npm ci` refuses such a lock file as out of sync. The versions installed are still the locked ones.
echo "setup: npm install (locked versions)"
npm install --no-audit --no-fund --loglevel=error
echo "setup: helm for the chart tests"
bash tools/install-helm.sh >/dev/null
echo "setup: building every project"
npx nx run-many -t build --output-style=static
# `meshctl`'s bin exists only after the build: link it now so `npx meshctl` works.
npm rebuild @weft/meshctl --ignore-scripts --loglevel=error >/dev/null

if [ "$with_cluster" -eq 0 ]; then
  echo "setup: done. Run the tests with: npm test"
  exit 0
fi
meshctl=(node apps/meshctl/dist/main.js)
if "${meshctl[@]}" local status >/dev/null 2>&1; then
  echo "setup: a healthy local cluster is already running:"
  "${meshctl[@]}" local status
else
  # A cluster that is recorded but not healthy (a crash, a reboot) is removed first: exactly what it recorded.
  "${meshctl[@]}" local down >/dev/null
  echo "setup: starting a 2-node local cluster with the demo apps"
  "${meshctl[@]}" local up --nodes 2 --demo
fi
echo "setup: done. Run the tests with: npm test    (stop the local cluster with: npx meshctl local down)"
