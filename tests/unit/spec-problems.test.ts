import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { humanize } from '../../app/_lib/useSpec';
import { MESSAGES } from '../../app/_i18n/messages';

describe('spec problems in plain words, in every language', () => {
  const cases: [string, string, unknown][] = [
    ['batchSize', 'Invalid input: expected int, received number', { key: 'wholeNumber' }],
    ['learningRate', 'Too big: expected number to be <=1', { key: 'range', values: { min: '0.00001', max: '1' } }],
    ['optimizer', 'Invalid option', { key: 'pickOne', values: { options: 'sgd, adam' } }],
    ['features', 'Too small: expected array to have >=1 items', { key: 'atLeastOneFeature' }],
    ['features', 'The "is x > 0" task has a single input: use x₁ only', { key: 'signSingleInput' }],
    ['layers', 'The network has 1,234,567 parameters; at most 1,000,000 fit a round', { key: 'tooManyParams', values: { params: 1234567, max: 1000000 } }],
    ['layers.0.kernelSize', 'The kernel is larger than its 4×4 input', { text: 'The kernel is larger than its 4×4 input' }],
  ];
  for (const [path, message, expected] of cases) {
    it(`${path}: ${message}`, () => {
      const problem = humanize(path, message);
      assert.deepEqual(problem, expected);
      if ('key' in problem) {
        for (const [locale, messages] of Object.entries(MESSAGES)) {
          const problems = (messages.spec as { problems: Record<string, string> }).problems;
          assert.ok(problems[problem.key], `${locale} spec.problems.${problem.key}`);
        }
      }
    });
  }
});
