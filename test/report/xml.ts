// A small XML 1.0 well-formedness checker for the JUnit writer's tests (elements,
// attributes, character data, entity references, comments, the prolog). Returns the
// element tree, or throws naming the first problem and its offset.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
const ENTITY = /^&(lt|gt|amp|quot|apos|#\d+|#x[0-9A-Fa-f]+);/;

function decode(raw: string, at: number): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '<') throw new Error(`raw "<" in text at ${at + i}`);
    if (c !== '&') {
      out += c;
      continue;
    }
    const m = ENTITY.exec(raw.slice(i));
    if (!m) throw new Error(`bad entity reference at ${at + i}: ${raw.slice(i, i + 12)}`);
    const e = m[1]!;
    out += e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'amp' ? '&' : e === 'quot' ? '"' : e === 'apos' ? "'" : String.fromCodePoint(e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    i += m[0].length - 1;
  }
  return out;
}

export function parseXml(xml: string): XmlElement {
  let i = 0;
  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>');
    if (end < 0) throw new Error('unterminated XML declaration');
    i = end + 2;
  }
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    if (stack.length) stack[stack.length - 1]!.text += decode(text, i);
    else if (text.trim()) throw new Error(`text outside the root element at ${i}`);
    if (lt < 0) break;
    i = lt;
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i);
      if (end < 0) throw new Error(`unterminated comment at ${i}`);
      i = end + 3;
      continue;
    }
    if (xml.startsWith('</', i)) {
      const m = NAME.exec(xml.slice(i + 2));
      const open = stack.pop();
      if (!m || !open || open.name !== m[0]) throw new Error(`closing </${m?.[0]}> does not match <${open?.name}> at ${i}`);
      i += 2 + m[0].length;
      while (/\s/.test(xml[i] ?? '')) i++;
      if (xml[i] !== '>') throw new Error(`expected > at ${i}`);
      i++;
      continue;
    }
    const m = NAME.exec(xml.slice(i + 1));
    if (!m) throw new Error(`bad tag at ${i}`);
    const el: XmlElement = { name: m[0], attrs: {}, children: [], text: '' };
    i += 1 + m[0].length;
    for (;;) {
      const ws = /^\s*/.exec(xml.slice(i))![0].length;
      i += ws;
      if (xml.startsWith('/>', i) || xml[i] === '>') break;
      if (ws === 0) throw new Error(`expected whitespace before attribute at ${i}`);
      const a = /^([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(xml.slice(i));
      if (!a) throw new Error(`bad attribute at ${i}: ${xml.slice(i, i + 30)}`);
      if (a[1]! in el.attrs) throw new Error(`duplicate attribute ${a[1]} at ${i}`);
      el.attrs[a[1]!] = decode(a[3] ?? a[4] ?? '', i);
      i += a[0].length;
    }
    if (stack.length) stack[stack.length - 1]!.children.push(el);
    else if (root) throw new Error(`second root element <${el.name}> at ${i}`);
    else root = el;
    if (xml.startsWith('/>', i)) i += 2;
    else {
      i += 1;
      stack.push(el);
    }
  }
  if (stack.length) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (!root) throw new Error('no root element');
  return root;
}
