import {
  foldLine,
  formatStructured,
  paramValues,
  parseContentLine,
  parseVCard,
  serializeVCard,
  splitEscaped,
  structuredValue,
  unescapeText,
  escapeText,
  unfoldLines,
  VCardSyntaxError,
} from './vcard';

const CARD_40 = [
  'BEGIN:VCARD',
  'VERSION:4.0',
  'UID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1',
  'FN:Boulangerie Moreau',
  'ORG:Boulangerie Moreau;Ventes',
  'item1.TEL;TYPE="work,voice";PREF=1:tel:+33-1-23-45-67-89',
  'ADR;TYPE=work;LABEL="12 rue du Four\\n75006 Paris":;;12 rue du Four;Paris;;75006;FR',
  'NOTE:Line one\\nline two\\, with a comma\\; and a semicolon',
  'X-CUSTOM-THING;X-PARAM=kept:some value',
  'END:VCARD',
  '',
].join('\r\n');

describe('parseVCard', () => {
  it('reads groups, parameters and values, names in upper case', () => {
    const card = parseVCard(CARD_40);
    expect(card.version).toBe('4.0');
    const tel = card.properties.find((property) => property.name === 'TEL');
    expect(tel).toEqual({
      group: 'item1',
      name: 'TEL',
      params: [
        { name: 'TYPE', values: ['work,voice'] },
        { name: 'PREF', values: ['1'] },
      ],
      value: 'tel:+33-1-23-45-67-89',
    });
    expect(tel && paramValues(tel, 'type')).toEqual(['work', 'voice']);
  });

  it('unfolds lines continued with a space or a tab, and takes LF line ends', () => {
    const card = parseVCard('BEGIN:VCARD\nVERSION:3.0\nFN:Jean-\r\n Pierre\n\t Dupont\nEND:VCARD\n');
    expect(card.properties.find((property) => property.name === 'FN')?.value).toBe('Jean-Pierre Dupont');
  });

  it('reads vCard 3.0 bare types and repeated TYPE parameters', () => {
    const tel = parseContentLine('tel;WORK;type=VOICE:+49 30 1234');
    expect(tel.name).toBe('TEL');
    expect(paramValues(tel, 'TYPE')).toEqual(['work', 'voice']);
  });

  it('decodes RFC 6868 carets in parameter values', () => {
    const adr = parseContentLine('ADR;LABEL="a ^\'quoted^\' ^^ line^nnext":;;x;;;;');
    expect(adr.params[0]?.values).toEqual(['a "quoted" ^ line\nnext']);
  });

  it('refuses text that is no vCard, naming the line', () => {
    expect(() => parseVCard('hello')).toThrow(VCardSyntaxError);
    expect(() => parseVCard('BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\n')).toThrow(/no END:VCARD/);
    expect(() => parseVCard('BEGIN:VCARD\r\nFN:x\r\nEND:VCARD\r\n')).toThrow(/no VERSION/);
    expect(() => parseVCard('BEGIN:VCARD\r\nVERSION:4.0\r\nFN x\r\nEND:VCARD\r\n')).toThrow(/line 3/);
    expect(() => parseContentLine('TEL;TYPE="work:+1')).toThrow(/unterminated/);
  });
});

describe('serializeVCard', () => {
  it('writes back what it read, unknown properties and parameters included', () => {
    const card = parseVCard(CARD_40);
    const written = serializeVCard(card);
    expect(parseVCard(written)).toEqual(card);
    expect(written).toContain('X-CUSTOM-THING;X-PARAM=kept:some value\r\n');
    expect(written.startsWith('BEGIN:VCARD\r\nVERSION:4.0\r\n')).toBe(true);
    expect(written.endsWith('END:VCARD\r\n')).toBe(true);
  });

  it('encodes parameter values with quotes and carets where needed', () => {
    const card = parseVCard(CARD_40);
    const written = serializeVCard(card);
    expect(written).toContain('item1.TEL;TYPE="work,voice";PREF=1:tel:+33-1-23-45-67-89');
    const label = parseContentLine('ADR;LABEL="say ^\'hi^\'":;;x;;;;');
    expect(serializeVCard({ version: '4.0', properties: [label] })).toContain("ADR;LABEL=say ^'hi^':;;x");
  });
});

describe('foldLine', () => {
  it('folds at 75 octets, continuation lines starting with a space', () => {
    const line = `NOTE:${'x'.repeat(200)}`;
    const folded = foldLine(line);
    const parts = folded.split('\r\n');
    expect(parts[0]).toHaveLength(75);
    for (const part of parts.slice(1)) expect(Buffer.byteLength(part)).toBeLessThanOrEqual(75);
    expect(parts.slice(1).every((part) => part.startsWith(' '))).toBe(true);
    expect(unfoldLines(folded)).toEqual([line]);
  });

  it('never splits a multi-byte character', () => {
    const line = `FN:${'é'.repeat(60)}`;
    const parts = foldLine(line).split('\r\n');
    for (const part of parts) {
      expect(Buffer.byteLength(part)).toBeLessThanOrEqual(75);
      expect(part).not.toContain('\uFFFD');
    }
    expect(unfoldLines(foldLine(line))).toEqual([line]);
  });

  it('leaves a short line alone', () => {
    expect(foldLine('FN:short')).toBe('FN:short');
  });
});

describe('text values', () => {
  it('escapes and unescapes newline, comma, semicolon and backslash', () => {
    const text = 'a\\b, c; d\ne';
    expect(escapeText(text)).toBe('a\\\\b\\, c\\; d\\ne');
    expect(unescapeText(escapeText(text))).toBe(text);
    expect(unescapeText('x\\Ny')).toBe('x\ny');
  });

  it('splits structured values at unescaped semicolons only', () => {
    expect(splitEscaped('a\\;b;c;;d', ';')).toEqual(['a\\;b', 'c', '', 'd']);
    const adr = parseContentLine('ADR:;;12 rue du Four\\, bât. B;Paris;;75006;FR');
    expect(structuredValue(adr)).toEqual(['', '', '12 rue du Four, bât. B', 'Paris', '', '75006', 'FR']);
    expect(formatStructured(['Moreau; fils', 'Ventes'])).toBe('Moreau\\; fils;Ventes');
  });
});
