#!/usr/bin/env bash
# Builds the supply-chain transforms and deploys them into a real Redpanda with rpk.
#
#   deploy/redpanda/deploy-transforms.sh [shipments trailers loads]
#
# Needs rpk on PATH (or RPK=/path/to/rpk) configured for the cluster (rpk profile, or RPK_BROKERS /
# RPK_ADMIN_HOSTS), a cluster with data_transforms_enabled=true (a restart is needed to turn it on),
# and Node 24 with this repository's npm packages (for the build). Each transform takes its name,
# input topic, output topics and variables from transforms/<name>/transform.yaml; output topics are
# created when missing (PARTITIONS, default 6). Redeploying a transform replaces it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rpk=${RPK:-rpk}
# The repository's own Node 24 when it has one (deploy/local/bootstrap.sh installs it there).
if [ -x "$root/.tools/node/bin/node" ]; then PATH="$root/.tools/node/bin:$PATH"; fi
partitions=${PARTITIONS:-6}
if [ "$#" -gt 0 ]; then
  transforms=("$@")
else
  transforms=(shipments trailers loads)
fi

if ! command -v "$rpk" >/dev/null 2>&1; then
  echo "deploy-transforms: rpk not found (set RPK=/path/to/rpk)" >&2
  exit 2
fi

enabled=$("$rpk" cluster config get data_transforms_enabled 2>/dev/null || echo unknown)
if [ "$enabled" != "true" ]; then
  echo "deploy-transforms: data_transforms_enabled is '$enabled'; run" >&2
  echo "  $rpk cluster config set data_transforms_enabled true   # then restart the brokers" >&2
  exit 2
fi

echo "== build and check (the broker's deploy-time rules)"
node "$root/wasm/build/main.ts" "${transforms[@]}"

# Prints one transform.yaml field: name, input-topic, output-topics (one per line) or env (KEY=VALUE lines).
# shellcheck disable=SC2016 # the single-quoted text is JavaScript, not shell
yaml_field() {
  (cd "$root" && node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { parse } from "yaml";
    const [file, field] = process.argv.slice(1);
    const cfg = parse(readFileSync(file, "utf8"));
    const v = cfg[field];
    if (Array.isArray(v)) console.log(v.join("\n"));
    else if (v && typeof v === "object") console.log(Object.entries(v).map(([k, x]) => `${k}=${x}`).join("\n"));
    else if (v !== undefined) console.log(v);
  ' "$1" "$2")
}

for t in "${transforms[@]}"; do
  yaml="$root/transforms/$t/transform.yaml"
  wasm="$root/build/wasm/$t.wasm"
  name=$(yaml_field "$yaml" name)
  input=$(yaml_field "$yaml" input-topic)
  mapfile -t outputs < <(yaml_field "$yaml" output-topics)
  mapfile -t vars < <(yaml_field "$yaml" env)

  echo "== $name: $input -> ${outputs[*]}"
  for topic in "${outputs[@]}"; do
    if ! "$rpk" topic describe "$topic" >/dev/null 2>&1; then
      "$rpk" topic create "$topic" --partitions "$partitions"
    fi
  done

  args=(transform deploy "$wasm" --name "$name" --input-topic "$input")
  for topic in "${outputs[@]}"; do args+=(--output-topic "$topic"); done
  for v in "${vars[@]}"; do
    [ -n "$v" ] && args+=(--var "$v")
  done
  # Run outside the transform folder so rpk takes every value from the flags above.
  (cd "$root" && "$rpk" "${args[@]}")
done

echo "== deployed"
"$rpk" transform list
