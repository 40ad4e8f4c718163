import { describe, expect, it } from 'vitest';
import { escapeHtml, html, jsonForScript, raw } from './html.js';

describe('html escaping', () => {
  it('escapes every interpolated value', () => {
    const payload = `<script>alert("x")</script>&'\``;
    expect(html`<td>${payload}</td>`.value).toBe(
      '<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;</td>',
    );
    expect(html`<a title="${'" onmouseover="x'}">`.value).toBe('<a title="&quot; onmouseover=&quot;x">');
  });

  it('nests templates and arrays without double escaping', () => {
    const rows = ['<a>', 'b&c'].map((v) => html`<li>${v}</li>`);
    expect(html`<ul>${rows}</ul>`.value).toBe('<ul><li>&lt;a&gt;</li><li>b&amp;c</li></ul>');
    expect(html`${raw('<br>')}${null}${undefined}${false}${0}`.value).toBe('<br>0');
  });

  it('escapeHtml stringifies anything', () => {
    expect(escapeHtml(undefined)).toBe('');
    expect(escapeHtml(12)).toBe('12');
  });

  it('keeps JSON inside a script block from ending it', () => {
    const out = jsonForScript({ s: '</script><script>alert(1)</script>', amp: '&' }).value;
    expect(out).not.toContain('</script>');
    expect(out).not.toContain('<');
    expect(JSON.parse(out)).toEqual({ s: '</script><script>alert(1)</script>', amp: '&' });
  });
});
