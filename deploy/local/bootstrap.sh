# Sourced, not run: puts Node >= 22.22 first on PATH (installing node@24 from the npm registry into
# .tools/node when the machine's Node is older) and installs the npm packages when they are missing.
# Progress goes to stderr so that command output stays clean.
ferry_root=${ferry_root:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
export PATH="$ferry_root/.tools/node/bin:$ferry_root/node_modules/.bin:$PATH"

ferry_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=22)?0:1)'
}

if ! ferry_node_ok; then
  echo "ferry: installing Node 24 into .tools/node (machine Node is $(node --version 2>/dev/null || echo missing))" >&2
  npm install --global --prefix "$ferry_root/.tools/node" --no-audit --no-fund node@24 >&2
  hash -r
  ferry_node_ok || { echo "ferry: Node 24 install failed" >&2; exit 1; }
fi

if [ ! -d "$ferry_root/node_modules" ] || [ "$ferry_root/package-lock.json" -nt "$ferry_root/node_modules/.package-lock.json" ]; then
  echo "ferry: installing npm packages (npm ci)" >&2
  (cd "$ferry_root" && npm ci --no-audit --no-fund >&2)
fi
