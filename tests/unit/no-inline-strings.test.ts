/**
 * No UI text inline: every words-bearing string a person reads comes from the message files
 * (app/_i18n/messages), so it exists in every language. Parses each app/**\/*.tsx with the
 * TypeScript compiler and reports file:line and text of every offender.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '../..');
const APP = path.join(ROOT, 'app');

/** Attributes whose value people read (or hear from a screen reader). */
const VISIBLE_ATTRIBUTES = new Set([
  'title',
  'placeholder',
  'alt',
  'label',
  'aria-label',
  'aria-description',
  'aria-placeholder',
  'aria-roledescription',
  'aria-valuetext',
  'aria-braillelabel',
]);

/** Tokens that are not words of any language: the brand and units. Keep this list small. */
const ALLOWED = new Set(['cotrain', 'px', 'ms', 's', '%']);

/** Letters of any script (Latin, CJK, …). */
const LETTERS = /\p{L}/u;

interface Offence {
  where: string;
  text: string;
}

function isWords(text: string): boolean {
  const trimmed = text.replace(/\s+/g, ' ').trim();
  return trimmed.length > 0 && LETTERS.test(trimmed) && !ALLOWED.has(trimmed);
}

/** A string literal or a template's fixed parts, as text; null for anything computed. */
function literalText(node: ts.Node): string | null {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) return [node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join(' ');
  if (ts.isParenthesizedExpression(node)) return literalText(node.expression);
  return null;
}

/** Literal texts an expression can evaluate to (both arms of a ?:, either side of && / ||). */
function literalTexts(node: ts.Expression): string[] {
  if (ts.isConditionalExpression(node)) return [...literalTexts(node.whenTrue), ...literalTexts(node.whenFalse)];
  if (ts.isBinaryExpression(node) && [ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.BarBarToken, ts.SyntaxKind.QuestionQuestionToken].includes(node.operatorToken.kind)) {
    return literalTexts(node.right);
  }
  if (ts.isParenthesizedExpression(node)) return literalTexts(node.expression);
  const text = literalText(node);
  return text === null ? [] : [text];
}

/** The JSX UI text in one source file that is not a message lookup. */
export function inlineStrings(file: string, source: string): Offence[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const out: Offence[] = [];
  const report = (node: ts.Node, text: string) => {
    const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    out.push({ where: `${path.relative(ROOT, file)}:${line + 1}`, text: text.replace(/\s+/g, ' ').trim() });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isJsxText(node) && isWords(node.text)) report(node, node.text);
    // {'text'} or {cond ? 'a' : 'b'} as a child of an element.
    if (ts.isJsxExpression(node) && node.expression && (ts.isJsxElement(node.parent) || ts.isJsxFragment(node.parent))) {
      for (const text of literalTexts(node.expression)) if (isWords(text)) report(node, text);
    }
    if (ts.isJsxAttribute(node) && node.initializer) {
      const name = node.name.getText(sf);
      if (VISIBLE_ATTRIBUTES.has(name)) {
        const init = node.initializer;
        const texts = ts.isStringLiteral(init) ? [init.text] : ts.isJsxExpression(init) && init.expression ? literalTexts(init.expression) : [];
        for (const text of texts) if (isWords(text)) report(node, `${name}="${text}"`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/**
 * The old pattern this project is moving away from: a module-level `const T = { … }` table of
 * English strings. Flagged so a file that hides its text in one cannot pass.
 */
export function stringTables(file: string, source: string): Offence[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const out: Offence[] = [];
  for (const statement of sf.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const decl of statement.declarationList.declarations) {
      if (!ts.isIdentifier(decl.name) || decl.name.text !== 'T' || !decl.initializer) continue;
      const { line } = sf.getLineAndCharacterOfPosition(decl.getStart(sf));
      out.push({ where: `${path.relative(ROOT, file)}:${line + 1}`, text: 'const T = { … } string table' });
    }
  }
  return out;
}

function tsxFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return tsxFiles(full);
    return entry.name.endsWith('.tsx') ? [full] : [];
  });
}

const show = (offences: Offence[]) => offences.map((o) => `  ${o.where}  ${o.text}`).join('\n');

describe('no inline UI strings', () => {
  it('the checker finds inline text, visible attributes and string tables, and passes message lookups', () => {
    const source = `
      const T = { hi: 'Hello' };
      export function A({ t, on }: { t: (k: string) => string; on: boolean }) {
        return (
          <div title="Tip text" data-testid="not-ui" className="px-2">
            Hello there
            {'Quoted words'}
            {on ? 'Yes' : t('no')}
            <input placeholder={\`Type \${1}\`} aria-label={t('label')} />
            <span>你好</span>
            <span>{t('ok')} · 42 → cotrain</span>
            <span>cotrain</span>
            <img alt="" />
          </div>
        );
      }`;
    const found = inlineStrings(path.join(APP, 'x.tsx'), source).map((o) => o.text);
    assert.deepEqual(found, ['title="Tip text"', 'Hello there', 'Quoted words', 'Yes', 'placeholder="Type "', '你好', '· 42 → cotrain']);
    assert.equal(stringTables(path.join(APP, 'x.tsx'), source).length, 1);
  });

  const files = tsxFiles(APP);
  it('finds the app’s components', () => assert.ok(files.length > 10, `only ${files.length} .tsx files under app/`));

  for (const file of files) {
    it(path.relative(ROOT, file), () => {
      const source = readFileSync(file, 'utf8');
      const offences = [...inlineStrings(file, source), ...stringTables(file, source)];
      assert.equal(offences.length, 0, `UI text not in the message files (app/_i18n/messages):\n${show(offences)}`);
    });
  }
});
