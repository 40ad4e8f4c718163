import { describe, expect, it } from 'vitest';
import { filterProblem, fixedLevels, topicMatches } from './topic-filter.js';

describe('topic filters', () => {
  it.each([
    ['site/+/meter/+', 'site/a/meter/m1', true],
    ['site/+/meter/+', 'site/a/meter', false],
    ['site/+/meter/+', 'site/a/meter/m1/x', false],
    ['site/#', 'site', true],
    ['site/#', 'site/a/b', true],
    ['#', 'a/b', true],
    ['#', '$SYS/broker/load', false],
    ['+/broker/load', '$SYS/broker/load', false],
    ['$SYS/#', '$SYS/broker/load', true],
    ['spBv1.0/g1/#', 'spBv1.0/g1/NDATA/n1', true],
    ['spBv1.0/g1/#', 'spBv1.0/g2/NDATA/n1', false],
    ['$share/collectors/site/+', 'site/a', true],
    ['a//b', 'a//b', true],
    ['a/+/b', 'a//b', true],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it('names what is wrong with a filter', () => {
    expect(filterProblem('a/#/b')).toMatch(/last/);
    expect(filterProblem('a/b#')).toMatch(/whole level/);
    expect(filterProblem('a/b+/c')).toMatch(/whole level/);
    expect(filterProblem('')).toMatch(/empty/);
    expect(filterProblem('$share//x')).toMatch(/shared/);
    expect(filterProblem('site/+/meter/#')).toBeUndefined();
  });

  it('counts the levels every matching topic has', () => {
    expect(fixedLevels('site/+/meter/+')).toBe(4);
    expect(fixedLevels('site/+/#')).toBe(2);
    expect(fixedLevels('$share/g/site/+')).toBe(2);
  });
});
