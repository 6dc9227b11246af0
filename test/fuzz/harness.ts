/**
 * Seeded fuzz runs with properties, shared by the CI test (test/fuzz/fuzz.test.ts, 100k+
 * inputs per target) and `bench/fuzz.ts` (1M+). A target turns one generated input into an
 * outcome label (counted) or throws when a property breaks; fast-check then shrinks the
 * input and the failure names the seed and path to replay it.
 */
import fc from 'fast-check';

export interface FuzzTarget<T = unknown> {
  readonly name: string;
  readonly input: fc.Arbitrary<T>;
  /** The outcome of one input, e.g. `ok:update` or `malformed:3/1`; throws on a broken property. */
  readonly check: (input: T) => string;
}

export function target<T>(t: FuzzTarget<T>): FuzzTarget {
  return t as unknown as FuzzTarget;
}

export interface FuzzReport {
  readonly name: string;
  readonly runs: number;
  readonly seed: number;
  readonly ms: number;
  /** Outcome label -> count, sorted by count. */
  readonly outcomes: ReadonlyArray<readonly [string, number]>;
}

/** A property broke: the message carries fast-check's seed/path report and the shrunk input. */
export class FuzzFailure extends Error {}

export function runTarget(t: FuzzTarget, opts: { runs: number; seed: number }): FuzzReport {
  const counts = new Map<string, number>();
  const t0 = performance.now();
  const r = fc.check(
    fc.property(t.input, (x) => {
      const outcome = t.check(x);
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    }),
    { numRuns: opts.runs, seed: opts.seed, endOnFailure: false },
  );
  if (r.failed) {
    const why = r.errorInstance instanceof Error ? r.errorInstance.message : String(r.errorInstance);
    throw new FuzzFailure(
      `${t.name}: ${why}\n${fc.defaultReportMessage(r) ?? 'failed'}\nreplay: seed ${opts.seed}, path "${r.counterexamplePath ?? ''}"`,
    );
  }
  // Shrinking runs count too when a property fails; on success every count is one run.
  return {
    name: t.name,
    runs: opts.runs,
    seed: opts.seed,
    ms: performance.now() - t0,
    outcomes: [...counts.entries()].sort((a, b) => b[1] - a[1]),
  };
}

/** Throws FuzzFailure (not an assertion library error, so the message stays whole). */
export function must(cond: boolean, what: string): asserts cond {
  if (!cond) throw new FuzzFailure(what);
}

/** Plain data for comparisons: keys sorted, Buffers as hex, bigints as text, undefined fields dropped. */
export function canon(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return `${x}n`;
    if (
      x &&
      typeof x === 'object' &&
      (x as { type?: unknown }).type === 'Buffer' &&
      Array.isArray((x as { data?: unknown }).data)
    ) {
      return `0x${Buffer.from((x as { data: number[] }).data).toString('hex')}`;
    }
    if (x && typeof x === 'object' && !Array.isArray(x)) {
      const o = x as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, o[k]]),
      );
    }
    return x;
  });
}

/** A valid input with bytes flipped, cut or stretched (the bytes before `keepHead` are never flipped). */
export function mutated(valid: fc.Arbitrary<Buffer>, keepHead = 0): fc.Arbitrary<Buffer> {
  return fc
    .tuple(
      valid,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.integer({ min: -16, max: 16 }),
    )
    .map(([src, flips, stretch]) => {
      let buf = Buffer.from(src);
      for (const [at, v] of flips) if (buf.length > keepHead) buf[keepHead + (at % (buf.length - keepHead))] = v;
      if (stretch < 0) buf = buf.subarray(0, Math.max(0, buf.length + stretch));
      else if (stretch > 0) buf = Buffer.concat([buf, Buffer.alloc(stretch, stretch)]);
      return buf;
    });
}

/** Cheap arbitrary JSON-ish values (fc.jsonValue is many times slower to generate). */
export const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.string({ maxLength: 8 }),
  fc.constantFrom('', '192.0.2.1', '2001:db8::1', '10s', 'In', 'true', '-1', 'a/b'),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 4 })), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('a', 'name', 'key', 'operator'), fc.oneof(fc.integer(), fc.string({ maxLength: 4 })), {
    maxKeys: 2,
  }),
);
