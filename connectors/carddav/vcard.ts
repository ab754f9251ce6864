/**
 * vCard 3.0 (RFC 2426) and 4.0 (RFC 6350) as a list of content lines, read and written without
 * losing what the connector does not understand: every property keeps its group, parameters and
 * raw value, so a card written back differs only in the properties that were set.
 *
 * Pure: no I/O. RFC 6350 section 3.2 (folding), 3.3 (content line ABNF), 3.4 (escaping) and RFC 6868
 * (caret encoding of parameter values) are the rules followed.
 */

/** One content line: `[group.]NAME[;param=value...]:value`. */
export interface VCardProperty {
  /** The group prefix (`item1` of `item1.TEL`), or null. */
  group: string | null;
  /** The property name, upper case (names are case-insensitive, RFC 6350 section 3.3). */
  name: string;
  /** Parameters in their order; names upper case, values decoded (quotes and RFC 6868 carets removed). */
  params: VCardParam[];
  /** The value as it stands on the line, still escaped (its meaning depends on the property). */
  value: string;
}

/** One parameter with its (comma-separated) values. */
export interface VCardParam {
  name: string;
  values: string[];
}

/** A vCard: its VERSION and its properties between BEGIN and END, in their order (VERSION included). */
export interface VCard {
  version: string;
  properties: VCardProperty[];
}

/** A text that is no vCard; `line` is the 1-based unfolded line the parser stopped at. */
export class VCardSyntaxError extends Error {
  /** Stable code for callers that branch on the kind of failure. */
  readonly code = 'VCARD_SYNTAX';

  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`vCard: ${message} (line ${String(line)})`);
    this.name = 'VCardSyntaxError';
  }
}

/** Unfolds a text: a line break followed by one space or tab continues the line (RFC 6350 section 3.2). */
export function unfoldLines(text: string): string[] {
  return text
    .replace(/\r\n|\r/g, '\n')
    .replace(/\n[ \t]/g, '')
    .split('\n')
    .filter((line) => line.trim() !== '');
}

/** Decodes RFC 6868's carets in a parameter value: ^n newline, ^' double quote, ^^ caret. */
function decodeCarets(value: string): string {
  return value.replace(/\^(n|N|'|\^)/g, (_, c: string) => (c === '^' ? '^' : c === "'" ? '"' : '\n'));
}

/** Encodes a parameter value for the line, quoted where it holds `,`, `;` or `:`. */
function encodeParamValue(value: string): string {
  const encoded = value.replace(/\^/g, '^^').replace(/\n/g, '^n').replace(/"/g, "^'");
  return /[,;:]/.test(encoded) ? `"${encoded}"` : encoded;
}

/** Parses one unfolded content line. */
export function parseContentLine(line: string, lineNo = 1): VCardProperty {
  const head = /^(?:([A-Za-z0-9-]+)\.)?([A-Za-z0-9-]+)/.exec(line);
  if (head === null) throw new VCardSyntaxError('a content line must start with a property name', lineNo);
  const group = head[1] ?? null;
  const name = (head[2] ?? '').toUpperCase();
  let at = head[0].length;
  const params: VCardParam[] = [];
  while (line[at] === ';') {
    at++;
    const paramName = /^[A-Za-z0-9-]+/.exec(line.slice(at));
    if (paramName === null) throw new VCardSyntaxError(`${name}: a parameter must have a name`, lineNo);
    at += paramName[0].length;
    if (line[at] !== '=') {
      // vCard 2.1 / 3.0 writers may send a bare type (`TEL;WORK:`): it is a value of TYPE.
      params.push({ name: 'TYPE', values: [paramName[0]] });
      continue;
    }
    at++;
    const values: string[] = [];
    for (;;) {
      let value: string;
      if (line[at] === '"') {
        const end = line.indexOf('"', at + 1);
        if (end < 0) throw new VCardSyntaxError(`${name}: unterminated quoted parameter value`, lineNo);
        value = line.slice(at + 1, end);
        at = end + 1;
      } else {
        value = /^[^";:,]*/.exec(line.slice(at))?.[0] ?? '';
        at += value.length;
      }
      values.push(decodeCarets(value));
      if (line[at] !== ',') break;
      at++;
    }
    params.push({ name: paramName[0].toUpperCase(), values });
  }
  if (line[at] !== ':') throw new VCardSyntaxError(`${name}: a content line must have ':' before its value`, lineNo);
  return { group, name, params, value: line.slice(at + 1) };
}

/** Parses one vCard (the first BEGIN:VCARD ... END:VCARD of the text). */
export function parseVCard(text: string): VCard {
  const lines = unfoldLines(text);
  const begin = lines.findIndex((line) => /^BEGIN:VCARD$/i.test(line.trim()));
  if (begin < 0) throw new VCardSyntaxError('no BEGIN:VCARD', 1);
  const properties: VCardProperty[] = [];
  for (let i = begin + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (/^END:VCARD$/i.test(line.trim())) {
      const version = properties.find((property) => property.name === 'VERSION')?.value.trim();
      if (version === undefined) throw new VCardSyntaxError('no VERSION', i + 1);
      return { version, properties };
    }
    // A nested card (vCard 2.1 AGENT) is not ours to read: a BEGIN inside is an error, not a property.
    if (/^BEGIN:/i.test(line)) throw new VCardSyntaxError('nested BEGIN', i + 1);
    properties.push(parseContentLine(line, i + 1));
  }
  throw new VCardSyntaxError('no END:VCARD', lines.length);
}

/** Folds a content line at 75 octets without splitting a UTF-8 character (RFC 6350 section 3.2). */
export function foldLine(line: string): string {
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  // The first line holds 75 octets; each continuation line starts with a space, leaving 74.
  let limit = 75;
  for (const char of line) {
    const size = Buffer.byteLength(char, 'utf8');
    if (octets + size > limit) {
      parts.push(current);
      current = '';
      octets = 0;
      limit = 74;
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

/** One property as an unfolded content line. */
export function formatContentLine(property: VCardProperty): string {
  const group = property.group === null ? '' : `${property.group}.`;
  const params = property.params
    .map((param) => `;${param.name}=${param.values.map(encodeParamValue).join(',')}`)
    .join('');
  return `${group}${property.name}${params}:${property.value}`;
}

/** Writes a vCard with CRLF line ends and folded lines. */
export function serializeVCard(card: VCard): string {
  const lines = ['BEGIN:VCARD', ...card.properties.map(formatContentLine), 'END:VCARD'];
  return lines.map(foldLine).join('\r\n') + '\r\n';
}

/** Unescapes a TEXT value: `\n` newline, `\,` `\;` `\\` themselves (RFC 6350 section 3.4). */
export function unescapeText(value: string): string {
  return value.replace(/\\([nN,;\\:])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}

/** Escapes a TEXT value for a content line (RFC 6350 section 3.4). */
export function escapeText(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/,/g, '\\,').replace(/;/g, '\\;');
}

/** Splits a raw value at every `separator` that is not escaped, keeping the pieces escaped. */
export function splitEscaped(value: string, separator: ';' | ','): string[] {
  const pieces: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const char = value[i] ?? '';
    if (char === '\\' && i + 1 < value.length) {
      current += char + (value[i + 1] ?? '');
      i++;
    } else if (char === separator) {
      pieces.push(current);
      current = '';
    } else current += char;
  }
  pieces.push(current);
  return pieces;
}

/** The components of a structured value (N, ADR, ORG), unescaped. */
export function structuredValue(property: VCardProperty): string[] {
  return splitEscaped(property.value, ';').map(unescapeText);
}

/** A structured value from its components, escaped. */
export function formatStructured(components: readonly string[]): string {
  return components.map(escapeText).join(';');
}

/** The values of a parameter, lower case, split at commas (TYPE=work,voice and TYPE=work;TYPE=voice alike). */
export function paramValues(property: VCardProperty, name: string): string[] {
  return property.params
    .filter((param) => param.name === name.toUpperCase())
    .flatMap((param) => param.values.flatMap((value) => value.split(',')))
    .map((value) => value.toLowerCase());
}
