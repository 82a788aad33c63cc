// A set of ids with O(1) add, delete and uniform random pick (array + index map).
import type { Rng } from './rng.ts';

export class IdSet {
  #ids: number[] = [];
  #index = new Map<number, number>();

  get size(): number {
    return this.#ids.length;
  }

  has(id: number): boolean {
    return this.#index.has(id);
  }

  add(id: number): void {
    if (this.#index.has(id)) return;
    this.#index.set(id, this.#ids.length);
    this.#ids.push(id);
  }

  delete(id: number): void {
    const at = this.#index.get(id);
    if (at === undefined) return;
    const last = this.#ids.pop()!;
    if (last !== id) {
      this.#ids[at] = last;
      this.#index.set(last, at);
    }
    this.#index.delete(id);
  }

  pick(rng: Rng): number | undefined {
    return this.#ids.length === 0 ? undefined : this.#ids[Math.floor(rng.next() * this.#ids.length)];
  }
}
