/**
 * FITS headers: 80-character cards, parsed into keyword / value / comment and
 * written back exactly. A card read from a file keeps its original images, so
 * an unmodified header is written back byte for byte; a card that is set or
 * added is formatted in the fixed format of the FITS standard (4.0, section 4.2).
 *
 * Supported: string (with '' escapes), logical, integer (bigint beyond 2^53),
 * real (E or D exponent) and undefined values; COMMENT, HISTORY and blank
 * commentary cards; long strings over CONTINUE cards (the OGIP convention:
 * a string ending in '&' continues on the next CONTINUE card); HIERARCH
 * keywords of more than 8 characters or with spaces (ESO convention). Complex
 * values are kept as their raw text in a string.
 *
 * @module
 */
import { FitsError, type FitsErrorContext } from "./errors.ts";

/** Bytes in a FITS block. */
export const BLOCK = 2880;
/** Characters in a header card. */
export const CARD = 80;

/** A card's value: null for an undefined value ("KEY     =" and nothing). */
export type CardValue = string | number | bigint | boolean | null;

/** Keywords whose cards are commentary: no value, free text. */
const COMMENTARY = new Set(["COMMENT", "HISTORY", ""]);

/** One logical header card (a long string spans several physical cards). */
export class Card {
  /** Keyword, upper case; HIERARCH keywords without the "HIERARCH " prefix; "" for blank cards. */
  key: string;
  /** The value; undefined for commentary cards (their text is in `comment`). */
  value: CardValue | undefined;
  /** Comment text (after the "/"), or the text of a commentary card. */
  comment: string;
  /** Written with the HIERARCH convention. */
  hierarch: boolean;
  /** A number written as a real (with a decimal point or exponent) even when integral. */
  float: boolean;
  /** The original 80-character images (one per physical card); cleared by any change. */
  images?: string[];

  constructor(
    key: string,
    value?: CardValue,
    comment = "",
    options: { hierarch?: boolean; float?: boolean; images?: string[] } = {},
  ) {
    this.key = normalizeKey(key);
    this.value = value;
    this.comment = comment;
    this.hierarch = options.hierarch ?? needsHierarch(this.key);
    this.float = options.float ?? (typeof value === "number" && !Number.isInteger(value));
    this.images = options.images;
  }

  /** True for COMMENT, HISTORY and blank-keyword cards. */
  get isCommentary(): boolean {
    return this.value === undefined;
  }

  /** The 80-character images of this card: the original ones if unchanged, else freshly formatted. */
  toImages(): string[] {
    return this.images ?? formatCard(this);
  }
}

function normalizeKey(key: string): string {
  let k = key.trim();
  if (/^HIERARCH\s/i.test(k)) k = k.slice(8).trim();
  return k.toUpperCase();
}

function needsHierarch(key: string): boolean {
  return key.length > 8 || !/^[A-Z0-9_-]*$/.test(key);
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c > 126) return false;
  }
  return true;
}

/** Formats a number the way FITS fixed format expects (reals always show "." or "E"). */
export function formatNumber(v: number | bigint, float: boolean): string {
  if (typeof v === "bigint") return v.toString();
  if (!Number.isFinite(v)) throw new FitsError(`cannot write non-finite number ${v} in a header`);
  if (!float && Number.isInteger(v) && Math.abs(v) < 1e21) return BigInt(v).toString();
  let s = String(v); // shortest round-trip representation
  if (s.includes("e")) {
    let [mant, exp] = s.split("e");
    if (!mant.includes(".")) mant += ".0";
    if (exp.startsWith("+")) exp = exp.slice(1);
    s = `${mant}E${exp}`;
  } else if (!s.includes(".")) {
    s += ".0";
  }
  if (s.length > 20) {
    // still exact: 17 significant digits
    s = v.toExponential(16).replace("e", "E").replace("E+", "E");
  }
  return s;
}

function escapeString(s: string): string {
  return s.replaceAll("'", "''");
}

function withComment(base: string, comment: string): string {
  if (!comment) return base.padEnd(CARD).slice(0, CARD);
  const sep = base.length < 30 ? base.padEnd(30) + " / " : base + " / ";
  return (sep + comment).padEnd(CARD).slice(0, CARD);
}

/** Formats a card into its 80-character images. */
export function formatCard(card: Card): string[] {
  const key = card.key;
  const ctx: FitsErrorContext = { card: key };
  if (!isAscii(key) || (!card.isCommentary && !isAscii(String(card.value ?? "")))) {
    throw new FitsError("header keywords and values must be printable ASCII", ctx);
  }
  if (!isAscii(card.comment)) throw new FitsError("header comments must be printable ASCII", ctx);
  if (card.isCommentary) {
    const text = card.comment;
    const out: string[] = [];
    for (let i = 0; i === 0 || i < text.length; i += 72) {
      out.push((key.padEnd(8) + text.slice(i, i + 72)).padEnd(CARD));
    }
    return out;
  }
  const v = card.value!;
  if (card.hierarch) {
    const val = typeof v === "string" ? `'${escapeString(v)}'` : formatScalar(v, card.float);
    const base = `HIERARCH ${key} = ${val}`;
    if (base.length > CARD) throw new FitsError("HIERARCH card longer than 80 characters", ctx);
    const full = card.comment ? `${base} / ${card.comment}` : base;
    return [full.padEnd(CARD).slice(0, CARD)];
  }
  if (key.length > 8) throw new FitsError("keyword longer than 8 characters", ctx);
  const head = key.padEnd(8) + "= ";
  if (typeof v !== "string") {
    return [withComment(head + formatScalar(v, card.float).padStart(20), card.comment)];
  }
  const quoted = `'${escapeString(v).padEnd(8)}'`;
  if (quoted.length <= 70) return [withComment(head + quoted, card.comment)];
  // long string: CONTINUE cards, each piece ending in '&' except the last
  const pieces: string[] = [];
  let cur = "";
  let curLen = 0;
  for (const ch of v) {
    const len = ch === "'" ? 2 : 1;
    if (curLen + len > 67) {
      pieces.push(cur);
      cur = "";
      curLen = 0;
    }
    cur += ch;
    curLen += len;
  }
  pieces.push(cur);
  const out: string[] = [];
  pieces.forEach((p, i) => {
    const last = i === pieces.length - 1;
    const body = `'${escapeString(p)}${last ? "" : "&"}'`;
    const prefix = i === 0 ? head : "CONTINUE  ";
    out.push(last ? "" : (prefix + body).padEnd(CARD));
    if (last) {
      const line = prefix + body;
      if (!card.comment || line.length + 3 + card.comment.length <= CARD) {
        out[i] = withComment(line, card.comment);
      } else {
        // the comment does not fit: carry it on continuation cards holding no more text
        // ('&' while more comment follows, '' at the end), split between words
        out[i] = (prefix + `'${escapeString(p)}&'`).padEnd(CARD);
        const chunks: string[] = [];
        let line = "";
        for (const word of card.comment.split(" ")) {
          if (line && line.length + 1 + word.length > 64) {
            chunks.push(line);
            line = word;
          } else {
            line = line ? `${line} ${word}` : word;
          }
        }
        chunks.push(line);
        chunks.forEach((c, k) => {
          const body = k === chunks.length - 1 ? "''" : "'&'";
          out.push(`CONTINUE  ${body} / ${c}`.padEnd(CARD).slice(0, CARD));
        });
      }
    }
  });
  return out;
}

function formatScalar(v: CardValue, float: boolean): string {
  if (v === null) return "";
  if (typeof v === "boolean") return v ? "T" : "F";
  if (typeof v === "string") return `'${escapeString(v)}'`;
  return formatNumber(v, float);
}

interface ParsedValue {
  value: CardValue;
  comment: string;
  float: boolean;
  /** For strings: the raw string (before trailing-space trimming) ends with "&". */
  continues: boolean;
}

const INT_RE = /^[+-]?\d+$/;
const REAL_RE = /^[+-]?(\d+\.?\d*|\.\d+)([EeDd][+-]?\d+)?$/;

/** Parses the value field of a card (the text after "= "). */
function parseValue(s: string, ctx: FitsErrorContext): ParsedValue {
  let i = 0;
  while (i < s.length && s[i] === " ") i++;
  if (s[i] === "'") {
    let j = i + 1;
    let str = "";
    for (;;) {
      const k = s.indexOf("'", j);
      if (k < 0) throw new FitsError(`unterminated string value`, ctx);
      if (s[k + 1] === "'") {
        str += s.slice(j, k) + "'";
        j = k + 2;
        continue;
      }
      str += s.slice(j, k);
      i = k + 1;
      break;
    }
    const rest = s.slice(i);
    const slash = rest.indexOf("/");
    const trimmed = str.replace(/ +$/, "");
    return {
      value: trimmed,
      comment: slash >= 0 ? rest.slice(slash + 1).trim() : "",
      float: false,
      continues: trimmed.endsWith("&"),
    };
  }
  const slash = s.indexOf("/", i);
  const tok = (slash >= 0 ? s.slice(i, slash) : s.slice(i)).trim();
  const comment = slash >= 0 ? s.slice(slash + 1).trim() : "";
  let value: CardValue;
  let float = false;
  if (tok === "") value = null;
  else if (tok === "T") value = true;
  else if (tok === "F") value = false;
  else if (INT_RE.test(tok)) {
    const n = Number(tok);
    value = Number.isSafeInteger(n) ? n : BigInt(tok);
  } else if (REAL_RE.test(tok)) {
    value = Number(tok.replace(/[dD]/, "E"));
    float = true;
  } else if (/^\(.*\)$/.test(tok)) value = tok; // complex: kept as text
  else throw new FitsError(`cannot parse value ${JSON.stringify(tok)}`, ctx);
  return { value, comment, float, continues: false };
}

/** Parses one physical 80-character card image. */
function parseImage(image: string, ctx: FitsErrorContext): Card {
  const kw = image.slice(0, 8).trimEnd();
  const key = kw.toUpperCase();
  if (key === "HIERARCH") {
    const eq = image.indexOf("=", 8);
    if (eq < 0) return new Card(key, undefined, image.slice(8).trimEnd(), { images: [image] });
    const hkey = image.slice(9, eq).trim().replace(/\s+/g, " ");
    const pv = parseValue(image.slice(eq + 1), { ...ctx, card: `HIERARCH ${hkey}` });
    return new Card(hkey, pv.value, pv.comment, {
      hierarch: true,
      float: pv.float,
      images: [image],
    });
  }
  if (COMMENTARY.has(key) || image.slice(8, 10) !== "= ") {
    return new Card(key, undefined, image.slice(8).trimEnd(), { images: [image] });
  }
  const pv = parseValue(image.slice(10), { ...ctx, card: key });
  return new Card(key, pv.value, pv.comment, { float: pv.float, images: [image] });
}

/**
 * Parses card images (a string whose length is a multiple of 80) up to END.
 * Returns the cards and the index of the END card, or -1 when there is none.
 */
export function parseCards(
  text: string,
  ctx: FitsErrorContext = {},
): { cards: Card[]; end: number } {
  const cards: Card[] = [];
  const n = Math.floor(text.length / CARD);
  for (let c = 0; c < n; c++) {
    const image = text.slice(c * CARD, (c + 1) * CARD);
    if (image.startsWith("END") && image.slice(3).trim() === "") return { cards, end: c };
    const card = parseImage(image, ctx);
    // CONTINUE long strings: fold continuation cards into the previous string card
    const prev = cards[cards.length - 1];
    if (
      card.key === "CONTINUE" && prev && typeof prev.value === "string" &&
      prev.value.endsWith("&") &&
      prev.images
    ) {
      const body = image.slice(8);
      if (body.trimStart().startsWith("'")) {
        const pv = parseValue(body, { ...ctx, card: prev.key });
        prev.value = prev.value.slice(0, -1) + String(pv.value);
        if (pv.comment) prev.comment = prev.comment ? `${prev.comment} ${pv.comment}` : pv.comment;
        prev.images.push(image);
        continue;
      }
    }
    cards.push(card);
  }
  return { cards, end: -1 };
}

/** Value cards keyed by keyword; commentary cards kept in order. */
export class Header {
  /** The cards in order (END is implicit and never stored). */
  readonly cards: Card[];

  constructor(cards: Card[] = []) {
    this.cards = cards;
  }

  /** Parses card images up to END; throws FitsError if there is no END card. */
  static parse(text: string, ctx: FitsErrorContext = {}): Header {
    const { cards, end } = parseCards(text, ctx);
    if (end < 0) throw new FitsError("header has no END card", { ...ctx, card: "END" });
    return new Header(cards);
  }

  /** Builds a header from [key, value, comment?] entries. */
  static from(entries: Array<[string, CardValue, string?]>): Header {
    const h = new Header();
    for (const [k, v, c] of entries) h.set(k, v, c);
    return h;
  }

  #index(key: string): number {
    const k = normalizeKey(key);
    return this.cards.findIndex((c) => c.key === k && !c.isCommentary);
  }

  /** True when a value card with this keyword exists. */
  has(key: string): boolean {
    return this.#index(key) >= 0;
  }

  /** The first value card with this keyword. */
  card(key: string): Card | undefined {
    const i = this.#index(key);
    return i >= 0 ? this.cards[i] : undefined;
  }

  /** The value of the first card with this keyword (undefined when absent). */
  get(key: string): CardValue | undefined {
    return this.card(key)?.value;
  }

  /** A numeric value (bigint converted), or `fallback` when absent; FitsError if not numeric. */
  getNumber(key: string, fallback?: number): number | undefined {
    const v = this.get(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v === "number") return v;
    if (typeof v === "bigint") return Number(v);
    throw new FitsError(`expected a number, found ${JSON.stringify(v)}`, {
      card: normalizeKey(key),
    });
  }

  /** A string value, or `fallback` when absent; FitsError if not a string. */
  getString(key: string, fallback?: string): string | undefined {
    const v = this.get(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v === "string") return v;
    throw new FitsError(`expected a string, found ${String(v)}`, { card: normalizeKey(key) });
  }

  /** The comment of a value card. */
  comment(key: string): string | undefined {
    return this.card(key)?.comment;
  }

  /**
   * Sets the value (and, when given, the comment) of the first card with this
   * keyword, or appends a new card. COMMENT / HISTORY / "" append a commentary card.
   * A number is written as a real when `float` is true or it is not integral.
   */
  set(key: string, value: CardValue, comment?: string, options: { float?: boolean } = {}): this {
    const k = normalizeKey(key);
    if (COMMENTARY.has(k)) return this.add(k, String(value ?? ""));
    const i = this.#index(k);
    if (i >= 0) {
      const c = this.cards[i];
      c.value = value;
      if (comment !== undefined) c.comment = comment;
      c.float = options.float ?? (typeof value === "number" && !Number.isInteger(value));
      c.images = undefined;
    } else {
      this.cards.push(new Card(k, value, comment ?? "", { float: options.float }));
    }
    return this;
  }

  /** Appends a commentary card (COMMENT, HISTORY or blank keyword) with this text. */
  add(key: "COMMENT" | "HISTORY" | "" | string, text: string): this {
    this.cards.push(new Card(normalizeKey(key), undefined, text));
    return this;
  }

  /** Removes every value card with this keyword; returns how many were removed. */
  delete(key: string): number {
    const k = normalizeKey(key);
    let removed = 0;
    for (let i = this.cards.length - 1; i >= 0; i--) {
      if (this.cards[i].key === k && !this.cards[i].isCommentary) {
        this.cards.splice(i, 1);
        removed++;
      }
    }
    return removed;
  }

  /** Texts of the COMMENT cards. */
  comments(): string[] {
    return this.cards.filter((c) => c.key === "COMMENT" && c.isCommentary).map((c) => c.comment);
  }

  /** Texts of the HISTORY cards. */
  history(): string[] {
    return this.cards.filter((c) => c.key === "HISTORY" && c.isCommentary).map((c) => c.comment);
  }

  /** Keywords of the value cards, in order. */
  keys(): string[] {
    return this.cards.filter((c) => !c.isCommentary).map((c) => c.key);
  }

  /** A deep copy (original images kept). */
  clone(): Header {
    return new Header(
      this.cards.map((c) =>
        new Card(c.key, c.value, c.comment, {
          hierarch: c.hierarch,
          float: c.float,
          images: c.images ? [...c.images] : undefined,
        })
      ),
    );
  }

  /** All 80-character card images, without END. */
  cardImages(): string[] {
    return this.cards.flatMap((c) => c.toImages());
  }

  /**
   * The header as stored in a file: every card image, the END card, and space
   * padding to a multiple of 2880 characters.
   */
  toString(): string {
    const body = this.cardImages().join("") + "END".padEnd(CARD);
    const padded = Math.ceil(body.length / BLOCK) * BLOCK;
    return body.padEnd(padded, " ");
  }
}
