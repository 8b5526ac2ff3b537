#!/usr/bin/env bash
# Builds the four component images with a container engine (docker, or podman with the same CLI), tagged as the
# Helm chart expects them: <registry>/<component>:<tag>.
#
#   bash deploy/docker/build-images.sh [--registry weft] [--tag 0.1.0] [--engine docker] [--push]
set -euo pipefail
cd "$(dirname "$0")/../.."

registry=weft
# The chart's appVersion, which its images default to.
tag=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' deploy/helm/weft/Chart.yaml)
engine=docker
push=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    --registry) registry=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --engine) engine=$2; shift 2 ;;
    --push) push=1; shift ;;
    *) echo "build-images: unknown argument $1 (use --registry, --tag, --engine, --push)" >&2; exit 2 ;;
  esac
done
command -v "$engine" >/dev/null || { echo "build-images: $engine is not installed" >&2; exit 1; }

for component in controlplane ztunnel waypoint cni-node; do
  image="$registry/$component:$tag"
  echo "build-images: $image"
  "$engine" build -f deploy/docker/Dockerfile --target "$component" -t "$image" .
  [ "$push" -eq 0 ] || "$engine" push "$image"
done
