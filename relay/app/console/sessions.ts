// Console sessions, kept in memory per relay process: an opaque random id in the cookie (never the admin
// token), a per-session CSRF token for every action, an idle timeout and an absolute lifetime. The table
// is bounded: past `max` sessions the oldest is dropped first. A restart logs everyone out.

export interface Session {
  readonly id: string;
  readonly csrf: string;
  readonly createdAt: number;
  lastSeenAt: number;
}

export interface SessionStore {
  create(): Session;
  /** The live session for a cookie value (its idle clock restarts), or undefined when unknown or expired. */
  touch(id: string | undefined): Session | undefined;
  delete(id: string | undefined): void;
  readonly size: number;
}

export interface SessionOptions {
  readonly now: () => number;
  /** A session unused this long ends (default 30 minutes). */
  readonly idleMs?: number;
  /** A session ends this long after login, used or not (default 8 hours). */
  readonly maxAgeMs?: number;
  readonly max?: number;
}

/** 32 random bytes as base64url: 256 bits, from the Web Crypto API every runtime has. */
export function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function createSessionStore({
  now,
  idleMs = 30 * 60_000,
  maxAgeMs = 8 * 3600_000,
  max = 1000,
}: SessionOptions): SessionStore {
  const sessions = new Map<string, Session>();
  const expired = (s: Session, t: number) => t - s.lastSeenAt > idleMs || t - s.createdAt > maxAgeMs;
  return {
    create: function createSession() {
      const t = now();
      for (const [id, s] of sessions) if (expired(s, t)) sessions.delete(id);
      while (sessions.size >= max) {
        const oldest = sessions.keys().next().value;
        if (oldest === undefined) break;
        sessions.delete(oldest);
      }
      const session: Session = { id: randomToken(), csrf: randomToken(), createdAt: t, lastSeenAt: t };
      sessions.set(session.id, session);
      return session;
    },
    touch: function touchSession(id) {
      if (!id) return undefined;
      const s = sessions.get(id);
      if (!s) return undefined;
      const t = now();
      if (expired(s, t)) {
        sessions.delete(id);
        return undefined;
      }
      s.lastSeenAt = t;
      return s;
    },
    delete(id) {
      if (id) sessions.delete(id);
    },
    get size() {
      return sessions.size;
    },
  };
}
