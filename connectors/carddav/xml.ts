/**
 * The little XML WebDAV answers need: a namespace-aware reader of elements and text (no DTDs, no
 * processing of entities beyond the five predefined and character references), and escaping for
 * the request bodies we write. Pure; a malformed document is an XmlSyntaxError.
 */

/** An element: its namespace URI, local name, child elements and the text directly inside it. */
export interface XmlElement {
  ns: string;
  local: string;
  children: XmlElement[];
  text: string;
}

/** A document that is not well-formed enough to read. */
export class XmlSyntaxError extends Error {
  /** Stable code for callers that branch on the kind of failure. */
  readonly code = 'XML_SYNTAX';

  constructor(message: string) {
    super(`XML: ${message}`);
    this.name = 'XmlSyntaxError';
  }
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Replaces the predefined entities and character references. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    return ENTITIES[ref] ?? whole;
  });
}

/** Escapes text for an element's content or an attribute value. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

interface Open {
  element: XmlElement;
  qname: string;
  scope: Map<string, string>;
}

/** Reads a document into its root element. */
export function parseXml(text: string): XmlElement {
  const stack: Open[] = [];
  let root: XmlElement | null = null;
  let at = 0;
  const resolve = (qname: string, scope: Map<string, string>, isAttribute: boolean): { ns: string; local: string } => {
    const colon = qname.indexOf(':');
    const prefix = colon < 0 ? '' : qname.slice(0, colon);
    const local = colon < 0 ? qname : qname.slice(colon + 1);
    if (prefix === '' && isAttribute) return { ns: '', local };
    const ns = scope.get(prefix);
    if (ns === undefined && prefix !== '') throw new XmlSyntaxError(`undeclared prefix '${prefix}'`);
    return { ns: ns ?? '', local };
  };
  /** The offset just past `marker` at or after `from`. */
  const past = (marker: string, from: number): number => {
    const found = text.indexOf(marker, from);
    if (found < 0) throw new XmlSyntaxError(`unterminated markup at offset ${String(from)}`);
    return found + marker.length;
  };
  while (at < text.length) {
    const lt = text.indexOf('<', at);
    if (lt < 0) {
      if (text.slice(at).trim() !== '' && stack.length === 0) throw new XmlSyntaxError('text outside the root');
      break;
    }
    const top = stack[stack.length - 1];
    if (lt > at && top !== undefined) top.element.text += decodeEntities(text.slice(at, lt));
    if (text.startsWith('<?', lt)) {
      at = past('?>', lt);
    } else if (text.startsWith('<!--', lt)) {
      at = past('-->', lt);
    } else if (text.startsWith('<![CDATA[', lt)) {
      at = past(']]>', lt);
      if (top !== undefined) top.element.text += text.slice(lt + 9, at - 3);
    } else if (text.startsWith('<!', lt)) {
      throw new XmlSyntaxError('document type declarations are not read');
    } else if (text.startsWith('</', lt)) {
      at = past('>', lt);
      const qname = text.slice(lt + 2, at - 1).trim();
      const open = stack.pop();
      if (open === undefined || open.qname !== qname)
        throw new XmlSyntaxError(`</${qname}> closes ${open ? `<${open.qname}>` : 'nothing'}`);
    } else {
      const tag = /^<([^\s/>]+)((?:\s+[^\s=]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(text.slice(lt));
      if (tag === null) throw new XmlSyntaxError(`malformed tag at offset ${String(lt)}`);
      const [whole, qname = '', attributes = '', selfClosing] = tag;
      const scope = new Map(top?.scope ?? []);
      for (const attribute of attributes.matchAll(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
        const name = attribute[1] ?? '';
        const value = decodeEntities(attribute[2] ?? attribute[3] ?? '');
        if (name === 'xmlns') scope.set('', value);
        else if (name.startsWith('xmlns:')) scope.set(name.slice(6), value);
      }
      const element: XmlElement = { ...resolve(qname, scope, false), children: [], text: '' };
      if (top !== undefined) top.element.children.push(element);
      else if (root === null) root = element;
      else throw new XmlSyntaxError('more than one root element');
      if (selfClosing !== '/') stack.push({ element, qname, scope });
      at = lt + whole.length;
    }
  }
  if (stack.length > 0) throw new XmlSyntaxError(`<${stack[stack.length - 1]?.qname ?? ''}> is not closed`);
  if (root === null) throw new XmlSyntaxError('no root element');
  return root;
}

/** The DAV: namespace (RFC 4918). */
export const DAV = 'DAV:';
/** The CardDAV namespace (RFC 6352 section 10). */
export const CARDDAV = 'urn:ietf:params:xml:ns:carddav';

/** The child elements named `local` in namespace `ns`. */
export function childrenNamed(element: XmlElement, ns: string, local: string): XmlElement[] {
  return element.children.filter((child) => child.ns === ns && child.local === local);
}

/** The first child element named `local` in namespace `ns`, or undefined. */
export function childNamed(element: XmlElement, ns: string, local: string): XmlElement | undefined {
  return element.children.find((child) => child.ns === ns && child.local === local);
}
