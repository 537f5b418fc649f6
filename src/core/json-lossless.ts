// Core, pure: a JSON parser that keeps big integers exact. Cargo's fingerprint JSON stores u64 hashes as bare
// numbers and JSON.parse would round every value above 2^53, which breaks joining a dependency's fingerprint
// to its hash file. Every integer literal that is not a safe integer therefore comes back as its decimal string.

/** Nesting deeper than this is treated as garbage rather than risking a stack overflow. */
const MAX_DEPTH = 512;

export class JsonSyntaxError extends Error {
  /** Offset (UTF-16 code units) in the text where the problem was found. */
  readonly position: number;

  constructor(message: string, position: number) {
    super(`${message} at position ${position}`);
    this.name = 'JsonSyntaxError';
    this.position = position;
  }
}

/**
 * Parses JSON text like JSON.parse, except that an integer literal (no fraction, no exponent) outside the safe
 * integer range becomes its exact decimal string. Numbers inside JSON strings are never touched.
 */
export function parseJsonLossless(text: string): unknown {
  const parser = new Parser(text);
  parser.skipWhitespace();
  const value = parser.parseValue(0);
  parser.skipWhitespace();
  if (parser.pos < text.length) {
    throw new JsonSyntaxError(`Unexpected ${describeChar(text, parser.pos)} after the JSON value`, parser.pos);
  }
  return value;
}

function describeChar(text: string, pos: number): string {
  const code = text.charCodeAt(pos);
  if (Number.isNaN(code)) return 'end of input';
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).padStart(4, '0')}`;
  if (code === 0xfeff) return 'byte order mark';
  return `character ${JSON.stringify(text.charAt(pos))}`;
}

class Parser {
  pos = 0;

  constructor(private readonly text: string) {}

  skipWhitespace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  private fail(expected: string): never {
    if (this.pos >= this.text.length) {
      throw new JsonSyntaxError(`Unexpected end of JSON input (truncated?) while expecting ${expected}`, this.pos);
    }
    throw new JsonSyntaxError(`Unexpected ${describeChar(this.text, this.pos)}, expecting ${expected}`, this.pos);
  }

  parseValue(depth: number): unknown {
    const t = this.text;
    const c = t.charCodeAt(this.pos);
    switch (c) {
      case 0x7b /* { */:
        return this.parseObject(depth + 1);
      case 0x5b /* [ */:
        return this.parseArray(depth + 1);
      case 0x22 /* " */:
        return this.parseString();
      case 0x74 /* t */:
        return this.parseLiteral('true', true);
      case 0x66 /* f */:
        return this.parseLiteral('false', false);
      case 0x6e /* n */:
        return this.parseLiteral('null', null);
      default:
        if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
        return this.fail('a JSON value');
    }
  }

  private parseLiteral<T>(word: string, value: T): T {
    for (let i = 0; i < word.length; i++) {
      if (this.text.charCodeAt(this.pos) !== word.charCodeAt(i)) this.fail(`\`${word}\``);
      this.pos++;
    }
    return value;
  }

  private checkDepth(depth: number): void {
    if (depth > MAX_DEPTH) throw new JsonSyntaxError(`JSON nested deeper than ${MAX_DEPTH} levels`, this.pos);
  }

  private parseObject(depth: number): Record<string, unknown> {
    this.checkDepth(depth);
    const t = this.text;
    const out: Record<string, unknown> = {};
    this.pos++; // {
    this.skipWhitespace();
    if (t.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      if (t.charCodeAt(this.pos) !== 0x22) this.fail('a string key');
      const key = this.parseString();
      this.skipWhitespace();
      if (t.charCodeAt(this.pos) !== 0x3a) this.fail('`:`');
      this.pos++;
      this.skipWhitespace();
      const value = this.parseValue(depth);
      if (key === '__proto__') {
        // A plain assignment would replace the prototype instead of adding a key.
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      } else {
        out[key] = value;
      }
      this.skipWhitespace();
      const sep = t.charCodeAt(this.pos);
      if (sep === 0x2c) {
        this.pos++;
        this.skipWhitespace();
        continue;
      }
      if (sep === 0x7d) {
        this.pos++;
        return out;
      }
      this.fail('`,` or `}`');
    }
  }

  private parseArray(depth: number): unknown[] {
    this.checkDepth(depth);
    const t = this.text;
    const out: unknown[] = [];
    this.pos++; // [
    this.skipWhitespace();
    if (t.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.parseValue(depth));
      this.skipWhitespace();
      const sep = t.charCodeAt(this.pos);
      if (sep === 0x2c) {
        this.pos++;
        this.skipWhitespace();
        continue;
      }
      if (sep === 0x5d) {
        this.pos++;
        return out;
      }
      this.fail('`,` or `]`');
    }
  }

  private parseString(): string {
    const t = this.text;
    const start = this.pos;
    this.pos++; // opening quote
    let plain = true;
    for (;;) {
      if (this.pos >= t.length) {
        throw new JsonSyntaxError('Unexpected end of JSON input (truncated?) inside a string', this.pos);
      }
      const c = t.charCodeAt(this.pos);
      if (c === 0x22) break;
      if (c < 0x20) {
        throw new JsonSyntaxError(`Unescaped ${describeChar(t, this.pos)} inside a string`, this.pos);
      }
      if (c === 0x5c) {
        plain = false;
        const e = t.charCodeAt(this.pos + 1);
        if (Number.isNaN(e)) {
          throw new JsonSyntaxError('Unexpected end of JSON input (truncated?) inside a string', this.pos + 1);
        }
        if (e === 0x75 /* u */) {
          for (let i = 2; i < 6; i++) {
            const h = t.charCodeAt(this.pos + i);
            const isHex = (h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66);
            if (!isHex) {
              if (Number.isNaN(h)) {
                throw new JsonSyntaxError('Unexpected end of JSON input (truncated?) inside a \\u escape', this.pos + i);
              }
              throw new JsonSyntaxError('Invalid \\u escape in a string', this.pos);
            }
          }
          this.pos += 6;
          continue;
        }
        // " \ / b f n r t
        if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
          this.pos += 2;
          continue;
        }
        throw new JsonSyntaxError(`Invalid escape \\${t.charAt(this.pos + 1)} in a string`, this.pos);
      }
      this.pos++;
    }
    this.pos++; // closing quote
    if (plain) return t.slice(start + 1, this.pos - 1);
    // The slice has been validated above, so JSON.parse decodes exactly the escapes JSON defines.
    return JSON.parse(t.slice(start, this.pos)) as string;
  }

  private parseNumber(): number | string {
    const t = this.text;
    const start = this.pos;
    if (t.charCodeAt(this.pos) === 0x2d) this.pos++;
    const firstDigit = t.charCodeAt(this.pos);
    if (firstDigit === 0x30) {
      this.pos++;
    } else if (firstDigit >= 0x31 && firstDigit <= 0x39) {
      while (isDigit(t.charCodeAt(this.pos))) this.pos++;
    } else {
      this.fail('a digit');
    }
    let integer = true;
    if (t.charCodeAt(this.pos) === 0x2e /* . */) {
      integer = false;
      this.pos++;
      if (!isDigit(t.charCodeAt(this.pos))) this.fail('a digit after `.`');
      while (isDigit(t.charCodeAt(this.pos))) this.pos++;
    }
    const e = t.charCodeAt(this.pos);
    if (e === 0x65 || e === 0x45) {
      integer = false;
      this.pos++;
      const sign = t.charCodeAt(this.pos);
      if (sign === 0x2b || sign === 0x2d) this.pos++;
      if (!isDigit(t.charCodeAt(this.pos))) this.fail('a digit in the exponent');
      while (isDigit(t.charCodeAt(this.pos))) this.pos++;
    }
    const literal = t.slice(start, this.pos);
    const value = Number(literal);
    if (integer && !Number.isSafeInteger(value)) return literal;
    return value;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

const U64_MAX = (1n << 64n) - 1n;

function parseU64Dec(dec: string): bigint {
  if (typeof dec !== 'string' || !/^[0-9]{1,20}$/.test(dec)) {
    throw new RangeError(`Not a decimal u64: ${JSON.stringify(dec)}`);
  }
  const v = BigInt(dec);
  if (v > U64_MAX) throw new RangeError(`Decimal value ${dec} does not fit in a u64`);
  return v;
}

/**
 * Decimal u64 → the 16 hex digits of its little-endian bytes. Cargo writes a unit's hash file this way, so the
 * `dep_fingerprint` of a dependency (decimal, in the parent's JSON) equals the dependency's hash file after this.
 */
export function u64DecToLeHex(dec: string): string {
  let v = parseU64Dec(dec);
  let out = '';
  for (let i = 0; i < 8; i++) {
    out += Number(v & 0xffn).toString(16).padStart(2, '0');
    v >>= 8n;
  }
  return out;
}

/** The inverse of {@link u64DecToLeHex}: 16 hex digits of little-endian bytes → decimal u64. */
export function leHexToU64Dec(hex: string): string {
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{16}$/.test(hex)) {
    throw new RangeError(`Not 16 hex digits: ${JSON.stringify(hex)}`);
  }
  let be = '';
  for (let i = 14; i >= 0; i -= 2) be += hex.slice(i, i + 2);
  return BigInt(`0x${be}`).toString();
}
