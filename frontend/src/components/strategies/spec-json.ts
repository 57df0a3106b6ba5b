// The spec editor's JSON, with where each value sits in the text: for marking the API's errors at
// their paths ("indicators.fast.params.timeperiod", "symbols[1]"), and for small edits (a param's
// value, a new indicator) that leave the rest of the user's text, and its formatting, as it was.

export type JsonNode =
  | { kind: "object"; from: number; to: number; props: JsonProp[] }
  | { kind: "array"; from: number; to: number; items: JsonNode[] }
  | { kind: "string"; from: number; to: number; value: string }
  | { kind: "number"; from: number; to: number; value: number }
  | { kind: "boolean"; from: number; to: number; value: boolean }
  | { kind: "null"; from: number; to: number; value: null };

export interface JsonProp {
  key: string;
  keyFrom: number;
  keyTo: number;
  value: JsonNode;
}

export interface TextRange {
  from: number;
  to: number;
}

export interface JsonSyntaxError extends TextRange {
  message: string;
}

export type Parsed = { ok: true; root: JsonNode; value: unknown } | { ok: false; error: JsonSyntaxError };

class SyntaxProblem extends Error {
  constructor(
    message: string,
    readonly at: number,
    readonly length = 1,
  ) {
    super(message);
  }
}

const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Where a position is, for messages: "line 3, column 5". */
export function lineColumn(text: string, at: number): { line: number; column: number } {
  const before = text.slice(0, at);
  const line = before.split("\n").length;
  return { line, column: at - before.lastIndexOf("\n") };
}

/** Parse JSON as JSON.parse does, keeping each value's range; a syntax error comes with its position. */
export function parseJson(text: string): Parsed {
  let at = 0;

  const space = () => {
    while (at < text.length && " \t\n\r".includes(text[at])) at += 1;
  };

  const describe = (index: number) => (index >= text.length ? "the end of the text" : `'${text[index]}'`);

  const expect = (char: string, what: string) => {
    space();
    if (text[at] !== char) throw new SyntaxProblem(`expected ${what}, found ${describe(at)}`, at);
    at += 1;
  };

  const string = (): { value: string; from: number; to: number } => {
    const from = at;
    at += 1; // the opening quote
    let value = "";
    for (;;) {
      if (at >= text.length) throw new SyntaxProblem("unterminated string", from, at - from);
      const char = text[at];
      if (char === '"') {
        at += 1;
        return { value, from, to: at };
      }
      if (char === "\\") {
        const next = text[at + 1];
        if (next === "u") {
          const hex = text.slice(at + 2, at + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new SyntaxProblem("bad \\u escape: four hex digits expected", at, 2);
          value += String.fromCharCode(parseInt(hex, 16));
          at += 6;
        } else if (next !== undefined && next in ESCAPES) {
          value += ESCAPES[next];
          at += 2;
        } else {
          throw new SyntaxProblem(`bad escape '\\${next ?? ""}' in a string`, at, 2);
        }
      } else if (char === "\n" || char < " ") {
        throw new SyntaxProblem("unterminated string (a line break inside it must be written \\n)", from, at - from);
      } else {
        value += char;
        at += 1;
      }
    }
  };

  const value = (depth: number): { node: JsonNode; value: unknown } => {
    if (depth > 64) throw new SyntaxProblem("nested too deeply", at);
    space();
    const from = at;
    const char = text[at];
    if (char === "{") {
      at += 1;
      const props: JsonProp[] = [];
      const result: Record<string, unknown> = {};
      space();
      if (text[at] === "}") {
        at += 1;
        return { node: { kind: "object", from, to: at, props }, value: result };
      }
      for (;;) {
        space();
        if (text[at] !== '"') {
          const hint = text[at] === "}" ? " (a comma before '}' is not allowed in JSON)" : "";
          throw new SyntaxProblem(`expected a key in double quotes, found ${describe(at)}${hint}`, at);
        }
        const key = string();
        expect(":", "':' after the key");
        const item = value(depth + 1);
        props.push({ key: key.value, keyFrom: key.from, keyTo: key.to, value: item.node });
        result[key.value] = item.value;
        space();
        if (text[at] === ",") {
          at += 1;
          continue;
        }
        if (text[at] === "}") {
          at += 1;
          return { node: { kind: "object", from, to: at, props }, value: result };
        }
        throw new SyntaxProblem(`expected ',' or '}' after a value, found ${describe(at)}`, at);
      }
    }
    if (char === "[") {
      at += 1;
      const items: JsonNode[] = [];
      const result: unknown[] = [];
      space();
      if (text[at] === "]") {
        at += 1;
        return { node: { kind: "array", from, to: at, items }, value: result };
      }
      for (;;) {
        space();
        if (text[at] === "]") throw new SyntaxProblem("expected a value, found ']' (a comma before ']' is not allowed in JSON)", at);
        const item = value(depth + 1);
        items.push(item.node);
        result.push(item.value);
        space();
        if (text[at] === ",") {
          at += 1;
          continue;
        }
        if (text[at] === "]") {
          at += 1;
          return { node: { kind: "array", from, to: at, items }, value: result };
        }
        throw new SyntaxProblem(`expected ',' or ']' after a value, found ${describe(at)}`, at);
      }
    }
    if (char === '"') {
      const parsed = string();
      return { node: { kind: "string", from, to: parsed.to, value: parsed.value }, value: parsed.value };
    }
    for (const [word, literal] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        const node = literal === null ? { kind: "null" as const, from, to: at, value: null } : { kind: "boolean" as const, from, to: at, value: literal };
        return { node, value: literal };
      }
    }
    NUMBER.lastIndex = at;
    const number = NUMBER.exec(text);
    if (number) {
      at += number[0].length;
      const parsed = Number(number[0]);
      return { node: { kind: "number", from, to: at, value: parsed }, value: parsed };
    }
    const word = /^[A-Za-z_$][\w$]*/.exec(text.slice(at));
    if (word) throw new SyntaxProblem(`'${word[0]}' is not a JSON value (strings need double quotes)`, at, word[0].length);
    throw new SyntaxProblem(`expected a value, found ${describe(at)}`, at);
  };

  try {
    const parsed = value(0);
    space();
    if (at < text.length) throw new SyntaxProblem(`unexpected ${describe(at)} after the end of the document`, at);
    return { ok: true, root: parsed.node, value: parsed.value };
  } catch (error) {
    if (!(error instanceof SyntaxProblem)) throw error;
    const from = Math.min(error.at, text.length);
    const to = Math.min(from + Math.max(error.length, 1), text.length);
    const { line, column } = lineColumn(text, from);
    return { ok: false, error: { from, to, message: `JSON syntax error at line ${line}, column ${column}: ${error.message}` } };
  }
}

/** What a path names: the node, and the property it is the value of (when in an object). */
export interface Located {
  node: JsonNode;
  prop: JsonProp | null;
  /** The part of the path found; shorter than the path when the rest does not exist. */
  path: string;
  exact: boolean;
}

/**
 * Follow an error path ("indicators.fast.params.timeperiod", "symbols[1]", "sizing.step.BRK.B") as far
 * as the document goes. Keys may hold dots, so at each object the longest key that fits is taken.
 */
export function locate(root: JsonNode, path: string): Located {
  let node = root;
  let prop: JsonProp | null = null;
  let rest = path;
  let found = "";
  while (rest !== "") {
    const index = /^\[(\d+)\]/.exec(rest);
    if (index && node.kind === "array") {
      const item = node.items[Number(index[1])];
      if (!item) break;
      node = item;
      prop = null;
      found += index[0];
      rest = rest.slice(index[0].length);
      continue;
    }
    if (node.kind !== "object") break;
    const dotted = found !== "";
    if (dotted && !rest.startsWith(".")) break;
    const wanted = dotted ? rest.slice(1) : rest;
    let best: JsonProp | null = null;
    for (const candidate of node.props) {
      const key = candidate.key;
      const fits = wanted === key || wanted.startsWith(`${key}.`) || wanted.startsWith(`${key}[`);
      // The longest key wins; among equal keys the last one (JSON.parse keeps the last duplicate).
      if (fits && (!best || key.length >= best.key.length)) best = candidate;
    }
    if (!best) break;
    node = best.value;
    prop = best;
    found += `${dotted ? "." : ""}${best.key}`;
    rest = wanted.slice(best.key.length);
  }
  return { node, prop, path: found, exact: rest === "" };
}

const SCALARS = new Set(["string", "number", "boolean", "null"]);

/** The characters of a string node's text at its ``column``-th character (1-based, escapes counted as one). */
function columnRange(text: string, node: JsonNode, column: number): TextRange | null {
  if (node.kind !== "string" || column < 1) return null;
  let at = node.from + 1;
  for (let char = 1; at < node.to - 1; char += 1) {
    const width = text[at] === "\\" ? (text[at + 1] === "u" ? 6 : 2) : 1;
    if (char === column) {
      // A name there is marked whole ("macd", "bb.upper"), anything else as the one character.
      let to = at + width;
      if (width === 1 && /[\w$]/.test(text[at])) while (to < node.to - 1 && /[\w.]/.test(text[to])) to += 1;
      return { from: at, to };
    }
    at += width;
  }
  return column === node.value.length + 1 ? { from: node.to - 1, to: node.to } : null;
}

/**
 * The text to mark for an error at ``path``: a scalar with its key, or the key of an object or array;
 * the nearest parent that exists when the path goes further than the document; in a rule, the
 * character its message points at ("at column 21").
 */
export function rangeForPath(text: string, root: JsonNode, path: string, message = ""): TextRange & { exact: boolean } {
  const found = locate(root, path);
  const { node, prop, exact } = found;
  if (exact) {
    const column = /at column (\d+)/.exec(message);
    const precise = column ? columnRange(text, node, Number(column[1])) : null;
    if (precise) return { ...precise, exact };
  }
  if (prop) {
    return SCALARS.has(node.kind) ? { from: prop.keyFrom, to: node.to, exact } : { from: prop.keyFrom, to: prop.keyTo, exact };
  }
  if (SCALARS.has(node.kind)) return { from: node.from, to: node.to, exact };
  return { from: node.from, to: Math.min(node.from + 1, node.to), exact };
}

export interface SpecDiagnostic extends TextRange {
  severity: "error";
  message: string;
  path: string;
}

/** The API's ``errors.json`` (path → messages) as diagnostics on the text they were about. */
export function diagnosticsFor(text: string, root: JsonNode, errors: Record<string, string[]>): SpecDiagnostic[] {
  const diagnostics: SpecDiagnostic[] = [];
  for (const [path, messages] of Object.entries(errors)) {
    for (const message of messages) {
      const range = rangeForPath(text, root, path, message);
      diagnostics.push({ from: range.from, to: range.to, severity: "error", path, message: path ? `${path}: ${message}` : message });
    }
  }
  return diagnostics.sort((a, b) => a.from - b.from);
}

/** A value on one line, as JSON with a space after ':' and ',' ({"function": "SMA", "params": {"timeperiod": 30}}). */
export function inlineJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inlineJson).join(", ")}]`;
  if (value && typeof value === "object") {
    return `{${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}: ${inlineJson(item)}`)
      .join(", ")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function indentOf(text: string, at: number): string {
  const lineStart = text.lastIndexOf("\n", at - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))?.[0] ?? "";
}

function startsLine(text: string, at: number): boolean {
  const lineStart = text.lastIndexOf("\n", at - 1) + 1;
  return text.slice(lineStart, at).trim() === "";
}

/** Replace the value at ``path`` (which must exist) by a JSON literal; null when there is no such value. */
export function replaceValue(text: string, root: JsonNode, path: string, literal: string): string | null {
  const found = locate(root, path);
  if (!found.exact || found.node === root) return null;
  return text.slice(0, found.node.from) + literal + text.slice(found.node.to);
}

/**
 * Add ``key: value`` at the end of the object at ``objectPath`` ("" for the document), indented like
 * its other keys. Null when that is no object, or already has the key.
 */
export function insertProperty(text: string, root: JsonNode, objectPath: string, key: string, value: unknown): string | null {
  const found = locate(root, objectPath);
  const target = found.node;
  if (!found.exact || target.kind !== "object" || target.props.some((prop) => prop.key === key)) return null;
  const entry = `${JSON.stringify(key)}: ${inlineJson(value)}`;
  const last = target.props[target.props.length - 1];
  if (last) {
    const separator = startsLine(text, last.keyFrom) ? `,\n${indentOf(text, last.keyFrom)}` : ", ";
    return text.slice(0, last.value.to) + separator + entry + text.slice(last.value.to);
  }
  const outer = indentOf(text, target.from);
  const unit = /\n([ \t]+)"/.exec(text)?.[1] ?? "  ";
  const inner = `${outer}${unit.startsWith("\t") ? "\t" : " ".repeat(Math.min(unit.length, 8))}`;
  return `${text.slice(0, target.from + 1)}\n${inner}${entry}\n${outer}${text.slice(target.to - 1)}`;
}

/**
 * JSON as people write it: a container goes on one line when it fits in ``width`` columns, else one entry
 * per line, indented by two. The document itself always takes a line per entry.
 */
export function formatJson(value: unknown, width = 100): string {
  const format = (item: unknown, indent: string, lead: number, top: boolean): string => {
    const inline = inlineJson(item);
    const container = item !== null && typeof item === "object";
    const empty = container && Object.keys(item as object).length === 0;
    if (!container || empty || (!top && indent.length + lead + inline.length <= width)) return inline;
    const inner = `${indent}  `;
    if (Array.isArray(item)) {
      return `[\n${item.map((entry) => inner + format(entry, inner, 0, false)).join(",\n")}\n${indent}]`;
    }
    const lines = Object.entries(item as Record<string, unknown>).map(([key, entry]) => {
      const label = `${JSON.stringify(key)}: `;
      return inner + label + format(entry, inner, label.length, false);
    });
    return `{\n${lines.join(",\n")}\n${indent}}`;
  };
  return format(value, "", 0, true);
}

/** The shortest change turning ``before`` into ``after``: the user's cursor and undo history survive outside edits. */
export function minimalChange(before: string, after: string): { from: number; to: number; insert: string } | null {
  if (before === after) return null;
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start += 1;
  let endBefore = before.length;
  let endAfter = after.length;
  while (endBefore > start && endAfter > start && before[endBefore - 1] === after[endAfter - 1]) {
    endBefore -= 1;
    endAfter -= 1;
  }
  return { from: start, to: endBefore, insert: after.slice(start, endAfter) };
}
