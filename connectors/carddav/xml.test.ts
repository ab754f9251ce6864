import { CARDDAV, childNamed, DAV, decodeEntities, escapeXml, parseXml, XmlSyntaxError } from './xml';

describe('parseXml', () => {
  it('resolves namespaces by prefix and default, and reads text, entities and CDATA', () => {
    const root = parseXml(`<?xml version="1.0" encoding="utf-8"?>
<!-- a comment -->
<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">
  <response><href>/a%20b/1.vcf</href>
    <propstat><prop><getetag>"e&amp;1"</getetag><C:address-data><![CDATA[BEGIN:VCARD <x>]]></C:address-data></prop></propstat>
  </response>
  <sync-token/>
</multistatus>`);
    expect(root).toMatchObject({ ns: DAV, local: 'multistatus' });
    const response = childNamed(root, DAV, 'response');
    expect(response && childNamed(response, DAV, 'href')?.text).toBe('/a%20b/1.vcf');
    const prop = response?.children[1]?.children[0];
    expect(prop && childNamed(prop, DAV, 'getetag')?.text).toBe('"e&1"');
    expect(prop && childNamed(prop, CARDDAV, 'address-data')?.text).toBe('BEGIN:VCARD <x>');
    expect(childNamed(root, DAV, 'sync-token')?.children).toEqual([]);
  });

  it('scopes a prefix to the element that declares it', () => {
    const root = parseXml('<a:x xmlns:a="A"><a:y xmlns:a="B"/><a:z/></a:x>');
    expect(root.children.map((child) => child.ns)).toEqual(['B', 'A']);
  });

  it('refuses documents it cannot read', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(XmlSyntaxError);
    expect(() => parseXml('<a>')).toThrow(/not closed/);
    expect(() => parseXml('<p:a/>')).toThrow(/undeclared prefix/);
    expect(() => parseXml('<!DOCTYPE a [<!ENTITY x "y">]><a/>')).toThrow(/document type/);
    expect(() => parseXml('<a/><b/>')).toThrow(/more than one root/);
    expect(() => parseXml('<a><!-- open')).toThrow(/unterminated/);
    expect(() => parseXml('')).toThrow(/no root/);
  });
});

describe('entities', () => {
  it('decodes the predefined ones and character references, and escapes what it writes', () => {
    expect(decodeEntities('&lt;&#65;&#x42;&quot;&apos;&gt;&unknown;')).toBe('<AB"\'>&unknown;');
    expect(escapeXml('a<b & "c">')).toBe('a&lt;b &amp; &quot;c&quot;&gt;');
  });
});
