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

export class ErrorSink {
  readonly errors: ConfigError[] = [];

  add(object: ObjectRef, field: string, reason: string, transient = false): void {
    this.errors.push(new ConfigError({ object, field, reason, transient }));
  }

  countFor(object: ObjectRef): number {
    return this.errors.filter(
      (e) => e.object.kind === object.kind && e.object.name === object.name && e.object.namespace === object.namespace,
    ).length;
  }
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
