#!/usr/bin/env bash
# Builds the supply-chain transforms and deploys them into a real Redpanda with rpk (>= 24.1).
#
#   deploy/redpanda/deploy-transforms.sh [shipments trailers loads]
#
# Needs rpk on PATH (or RPK=/path/to/rpk) configured for the cluster (an rpk profile, or RPK_BROKERS
# and RPK_ADMIN_HOSTS), and a cluster with data_transforms_enabled=true (a restart is needed to turn
# it on). Steps:
#   1. build and check the modules with Node 24 and this repository's npm packages, into build/wasm
#      (FERRY_SKIP_BUILD=1 deploys modules built elsewhere, from FERRY_WASM_DIR);
#   2. create every topic the transforms touch, once, in one call: each input (cdc.public.<table>),
#      each output (clean.<table>, dlq.transform) and FERRY_EXTRA_TOPICS (default dlq.relay, the
#      relay's dead-letter topic), with PARTITIONS partitions (default 6, as Debezium creates the
#      cdc topics) and REPLICAS replicas (default: the cluster's default_topic_replications); a topic
#      that already exists is fine, any other failure stops the script;
#   3. `rpk transform deploy --file <module> --name <name> --input-topic <topic> --output-topic <topic>...
#      --var KEY=VALUE...` per transform, with the values of transforms/<name>/transform.yaml;
#      redeploying a transform replaces it;
#   4. `rpk transform list`.
# Reading transform.yaml needs only bash and awk (no Node), so the script also runs in Redpanda's own
# container with prebuilt modules (the Compose init service does that).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rpk=${RPK:-rpk}
partitions=${PARTITIONS:-6}
replicas=${REPLICAS:-}
wasm_dir=${FERRY_WASM_DIR:-$root/build/wasm}
transforms_dir=${FERRY_TRANSFORMS_DIR:-$root/transforms}
read -r -a extra_topics <<<"${FERRY_EXTRA_TOPICS-dlq.relay}"
if [ "$#" -gt 0 ]; then
  transforms=("$@")
else
  transforms=(shipments trailers loads)
fi

fail() {
  echo "deploy-transforms: $*" >&2
  exit 2
}

command -v "$rpk" >/dev/null 2>&1 || fail "rpk not found (set RPK=/path/to/rpk)"
[[ "$partitions" =~ ^[1-9][0-9]*$ ]] || fail "PARTITIONS must be a positive integer, not '$partitions'"
[[ -z "$replicas" || "$replicas" =~ ^[1-9][0-9]*$ ]] || fail "REPLICAS must be a positive integer, not '$replicas'"

enabled=$("$rpk" cluster config get data_transforms_enabled 2>/dev/null || echo unknown)
if [ "$enabled" != "true" ]; then
  echo "deploy-transforms: data_transforms_enabled is '$enabled'; run" >&2
  echo "  rpk cluster config set data_transforms_enabled true" >&2
  echo "and restart the brokers" >&2
  exit 2
fi

if [ "${FERRY_SKIP_BUILD:-}" != "1" ]; then
  # The repository's own Node 24 when it has one (deploy/local/bootstrap.sh installs it there).
  if [ -x "$root/.tools/node/bin/node" ]; then PATH="$root/.tools/node/bin:$PATH"; fi
  echo "== build and check (the broker's deploy-time rules)"
  node "$root/wasm/build/main.ts" "${transforms[@]}"
  wasm_dir=$root/build/wasm
fi

# Prints one field of a transform.yaml: a scalar (name, input-topic), a block list one item per line
# (output-topics) or a block map as KEY=VALUE lines (env). Understands the subset the transform.yaml
# files use (a unit test compares it with a full YAML parser on each of them).
yaml_field() {
  awk -v want="$2" '
    function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
    function unquote(s) {
      if (s ~ /^".*"$/ || s ~ /^\047.*\047$/) return substr(s, 2, length(s) - 2)
      return s
    }
    {
      line = $0
      sub(/(^|[ \t])#.*$/, "", line)
      if (line ~ /^[ \t]*$/) next
      if (line ~ /^[^ \t-]/) {
        inside = 0
        key = line; sub(/:.*$/, "", key)
        if (key != want) next
        value = trim(substr(line, index(line, ":") + 1))
        if (value != "") { print unquote(value); exit }
        inside = 1
        next
      }
      if (!inside) next
      if (line ~ /^[ \t]+- /) { item = line; sub(/^[ \t]+- /, "", item); print unquote(trim(item)); next }
      entry = trim(line); i = index(entry, ":")
      print trim(substr(entry, 1, i - 1)) "=" unquote(trim(substr(entry, i + 1)))
    }
  ' "$1"
}

names=() inputs=() topics=()
for t in "${transforms[@]}"; do
  yaml="$transforms_dir/$t/transform.yaml"
  [ -f "$yaml" ] || fail "no $yaml"
  [ -f "$wasm_dir/$t.wasm" ] || fail "no module $wasm_dir/$t.wasm (build it, or unset FERRY_SKIP_BUILD)"
  name=$(yaml_field "$yaml" name)
  input=$(yaml_field "$yaml" input-topic)
  mapfile -t outputs < <(yaml_field "$yaml" output-topics)
  [ -n "$name" ] && [ -n "$input" ] && [ "${#outputs[@]}" -gt 0 ] ||
    fail "$yaml needs name, input-topic and output-topics"
  names+=("$name")
  inputs+=("$input")
  topics+=("$input" "${outputs[@]}")
done
mapfile -t topics < <(printf '%s\n' "${topics[@]}" "${extra_topics[@]}" | awk 'NF && !seen[$0]++')

echo "== topics: ${topics[*]}"
create=(topic create --partitions "$partitions")
[ -n "$replicas" ] && create+=(--replicas "$replicas")
# rpk exits 1 when any topic already exists, so judge each topic by its status column instead.
created=$("$rpk" "${create[@]}" "${topics[@]}" 2>&1) || true
echo "$created"
for topic in "${topics[@]}"; do
  status=$(awk -v t="$topic" '$1 == t { print $2; exit }' <<<"$created")
  case "$status" in
    OK | TOPIC_ALREADY_EXISTS*) ;;
    *) fail "could not create topic $topic (${status:-no answer from rpk})" ;;
  esac
done

for i in "${!transforms[@]}"; do
  t=${transforms[$i]}
  yaml="$transforms_dir/$t/transform.yaml"
  mapfile -t outputs < <(yaml_field "$yaml" output-topics)
  mapfile -t vars < <(yaml_field "$yaml" env)
  echo "== ${names[$i]}: ${inputs[$i]} -> ${outputs[*]}"
  args=(transform deploy --file "$wasm_dir/$t.wasm" --name "${names[$i]}" --input-topic "${inputs[$i]}")
  for topic in "${outputs[@]}"; do args+=(--output-topic "$topic"); done
  for v in "${vars[@]}"; do
    if [ -n "$v" ]; then args+=(--var "$v"); fi
  done
  # Run outside any transform folder so rpk takes every value from the flags above.
  (cd "$root" && "$rpk" "${args[@]}")
done

echo "== deployed"
"$rpk" transform list
