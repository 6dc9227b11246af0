/**
 * Reads fields out of an `unknown` API object, collecting a ConfigError (object, field
 * path, reason) for each problem instead of throwing, so one bad field never hides others.
 */
import { ConfigError, type ObjectRef } from '../core/errors.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { readonly [key: string]: unknown };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** At most this many errors are kept per object; the rest are counted in one summary error. */
export const MAX_ERRORS_PER_OBJECT = 20;

interface ObjectTally {
  readonly object: ObjectRef;
  count: number;
  hard: number;
  omitted: number;
  omittedHard: number;
}

/**
 * A configuration error is data (object, field, reason): its stack trace says nothing and
 * capturing one was a third of the parser's time on bad input.
 */
function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function objectKey(o: ObjectRef): string {
  return `${o.kind}\u0000${o.namespace ?? ''}\u0000${o.name}`;
}

/**
 * Collects errors. One object can produce many (a pool of 1,024 identical entries): the
 * sink keeps the first MAX_ERRORS_PER_OBJECT per object and counts the rest, so every place
 * that reports errors (status, Events, logs, `herald validate`) gets a bounded list.
 */
export class ErrorSink {
  private readonly kept: ConfigError[] = [];
  private readonly tallies = new Map<string, ObjectTally>();

  add(object: ObjectRef, field: string, reason: string, transient = false): void {
    const key = objectKey(object);
    let t = this.tallies.get(key);
    if (!t) {
      t = { object, count: 0, hard: 0, omitted: 0, omittedHard: 0 };
      this.tallies.set(key, t);
    }
    t.count++;
    if (!transient) t.hard++;
    if (t.count - t.omitted > MAX_ERRORS_PER_OBJECT) {
      t.omitted++;
      if (!transient) t.omittedHard++;
      return;
    }
    this.kept.push(withoutStack(() => new ConfigError({ object, field, reason, transient })));
  }

  /** Every error reported for the object, including those not kept. */
  countFor(object: ObjectRef): number {
    return this.tallies.get(objectKey(object))?.count ?? 0;
  }

  /** Errors for the object that are not transient (the object is invalid). */
  hardCountFor(object: ObjectRef): number {
    return this.tallies.get(objectKey(object))?.hard ?? 0;
  }

  /** Kept errors so far (no summaries), in the order reported. */
  get size(): number {
    return this.kept.length;
  }

  keptSince(n: number): readonly ConfigError[] {
    return this.kept.slice(n);
  }

  /** The kept errors plus, per object with more, one error saying how many were left out. */
  get errors(): ConfigError[] {
    const out = [...this.kept];
    for (const t of this.tallies.values()) {
      if (t.omitted === 0) continue;
      out.push(
        withoutStack(
          () =>
            new ConfigError({
              object: t.object,
              field: '',
              reason: `${t.omitted} more error(s) not listed (${t.count} in all, the first ${MAX_ERRORS_PER_OBJECT} shown)`,
              transient: t.omittedHard === 0,
            }),
        ),
      );
    }
    return out;
  }
}

/** The first `limit` items of a list and how many were left out, for reports with a size limit. */
export function capList<T>(items: readonly T[], limit: number): { shown: readonly T[]; omitted: number } {
  return items.length <= limit
    ? { shown: items, omitted: 0 }
    : { shown: items.slice(0, limit), omitted: items.length - limit };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** A cursor on one object (or sub-object) with its field path. */
export class FieldReader {
  constructor(
    readonly sink: ErrorSink,
    readonly ref: ObjectRef,
    readonly path: string,
    readonly value: JsonObject,
  ) {}

  private at(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  error(key: string, reason: string, transient = false): void {
    this.sink.add(this.ref, this.at(key), reason, transient);
  }

  errorHere(reason: string, transient = false): void {
    this.sink.add(this.ref, this.path, reason, transient);
  }

  /** Reports every key that is not in `known` (a typo would otherwise be silently ignored). */
  only(known: readonly string[]): void {
    for (const key of Object.keys(this.value)) {
      if (!known.includes(key)) this.error(key, `unknown field "${key}" (known: ${known.join(', ')})`);
    }
  }

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  string(key: string): string | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') {
      this.error(key, `must be a string, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  bool(key: string): boolean | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') {
      this.error(key, `must be true or false, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  /** An integer within [min, max]. */
  int(key: string, min: number, max: number): number | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.error(key, `must be an integer, got ${describe(v)}`);
      return undefined;
    }
    if (v < min || v > max) {
      this.error(key, `${v} is out of range [${min}, ${max}]`);
      return undefined;
    }
    return v;
  }

  list(key: string): Array<{ path: string; value: unknown }> {
    const v = this.value[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.error(key, `must be a list, got ${describe(v)}`);
      return [];
    }
    return v.map((item: unknown, i) => ({ path: `${this.at(key)}[${i}]`, value: item }));
  }

  stringList(key: string): string[] {
    const out: string[] = [];
    for (const { path, value } of this.list(key)) {
      if (typeof value === 'string') out.push(value);
      else this.sink.add(this.ref, path, `must be a string, got ${describe(value)}`);
    }
    return out;
  }

  object(key: string): FieldReader | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) {
      this.error(key, `must be an object, got ${describe(v)}`);
      return undefined;
    }
    return new FieldReader(this.sink, this.ref, this.at(key), v);
  }

  objectList(key: string): FieldReader[] {
    const out: FieldReader[] = [];
    for (const { path, value } of this.list(key)) {
      if (isObject(value)) out.push(new FieldReader(this.sink, this.ref, path, value));
      else this.sink.add(this.ref, path, `must be an object, got ${describe(value)}`);
    }
    return out;
  }
}
