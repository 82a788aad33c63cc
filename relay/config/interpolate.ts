// `${NAME}` and `${NAME:-default}` in any string of the config are replaced from the environment, so
// secrets live only there. A missing variable without a default is an error naming the config path.

const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface InterpolationResult {
  readonly value: unknown;
  readonly errors: readonly string[];
}

function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out || '(root)';
}

export function interpolateEnv(
  input: unknown,
  env: Readonly<Record<string, string | undefined>>,
): InterpolationResult {
  const errors: string[] = [];
  // YAML aliases may make a node contain itself (`a: &x [*x]`): a cycle is an error, not a stack overflow.
  const ancestors = new Set<object>();
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') {
      return node.replace(PATTERN, (_m, name: string, fallback: string | undefined) => {
        const v = env[name];
        if (v !== undefined && v !== '') return v;
        if (fallback !== undefined) return fallback;
        errors.push(`${formatPath(path)}: environment variable ${name} is not set`);
        return '';
      });
    }
    if (node === null || typeof node !== 'object') return node;
    if (ancestors.has(node)) {
      errors.push(`${formatPath(path)}: contains itself (a recursive alias)`);
      return null;
    }
    ancestors.add(node);
    try {
      if (Array.isArray(node)) return node.map((x, i) => walk(x, [...path, i]));
      const out: Record<string, unknown> = {};
      // Defined, not assigned: a `__proto__` key stays a key (the schema refuses it) instead of
      // becoming the object's prototype, whose settings would then be read as if they were given.
      for (const [k, v] of Object.entries(node))
        Object.defineProperty(out, k, {
          value: walk(v, [...path, k]),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return out;
    } finally {
      ancestors.delete(node);
    }
  };
  return { value: walk(input, []), errors };
}

export { formatPath };
