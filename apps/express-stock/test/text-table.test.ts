import { describe, expect, it } from 'vitest';
import { formatTextTable } from '../src/demo/text-table.js';

describe('formatTextTable', () => {
  it('pads each column to its widest cell, underlines the header, and trims line ends', () => {
    expect(
      formatTextTable(
        ['strategy', 'stock'],
        [
          ['pubsub', '0'],
          ['none', '-37'],
        ],
      ),
    ).toBe(['strategy  stock', '--------  -----', 'pubsub    0', 'none      -37'].join('\n'));
  });
});
