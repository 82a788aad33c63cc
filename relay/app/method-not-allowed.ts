// 405 for a known route asked with a method it does not serve, with the `Allow` header listing the
// methods it does (HEAD comes with GET, as Hono answers HEAD from the GET handler). Register it with
// `app.all(path, ...)` after the route's own handlers, which answer first.
import type { Handler } from 'hono';

export function allowOnly(...methods: readonly string[]): Handler {
  const allow = (methods.includes('GET') ? [...methods, 'HEAD'] : methods).join(', ');
  return function methodNotAllowed(c) {
    return c.json({ error: `method ${c.req.method} not allowed`, allow }, 405, { allow });
  };
}
