import { describe, expect, it } from 'vitest';
import { stats } from './stats';

describe('stats', () => {
  it('reports nearest-rank quantiles, each a measured value', () => {
    const samples = Array.from({ length: 50 }, (_, i) => 50 - i); // 50..1, unsorted order
    expect(stats(samples)).toEqual({
      n: 50,
      min: 1,
      p25: 13,
      median: 25,
      p75: 38,
      p90: 45,
      max: 50,
    });
  });

  it('handles one sample and none', () => {
    expect(stats([7])).toMatchObject({ median: 7, p90: 7, min: 7, max: 7 });
    expect(stats([]).median).toBeNaN();
  });
});
