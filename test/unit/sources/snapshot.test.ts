import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  MAX_PARTITIONS,
  partitionCopySql,
  partitionPredicate,
  splitBlocks,
} from '../../../src/sources/postgres/snapshot.ts'
import type { SnapshotPartition } from '../../../src/sources/source.ts'

function assertCovers(parts: SnapshotPartition[]): void {
  assert.equal(parts[0]?.startBlock, 0)
  assert.equal(parts[parts.length - 1]?.endBlock, undefined, 'last partition is open-ended')
  parts.forEach((p, i) => {
    assert.equal(p.index, i)
    const next = parts[i + 1]
    if (next) {
      assert.equal(p.endBlock, next.startBlock, 'contiguous')
      assert.ok((p.endBlock as number) > p.startBlock, 'non-empty')
    }
  })
}

describe('splitBlocks', () => {
  it('cuts about rowsPerPartition rows per partition', () => {
    const parts = splitBlocks(100, 20_000, 3000)
    assert.equal(parts.length, 7)
    assertCovers(parts)
  })

  it('gives an empty table one partition covering everything', () => {
    assert.deepEqual(splitBlocks(0, 0, 1000), [{ index: 0, startBlock: 0, endBlock: undefined }])
  })

  it('never makes more partitions than blocks, nor more than the cap', () => {
    assert.equal(splitBlocks(3, 1_000_000, 10).length, 3)
    assert.equal(splitBlocks(10_000_000, 1e9, 1).length, MAX_PARTITIONS)
    assertCovers(splitBlocks(3, 1_000_000, 10))
  })

  it('keeps a small table in one partition', () => {
    assert.deepEqual(splitBlocks(50, 100, 1000), [{ index: 0, startBlock: 0, endBlock: undefined }])
  })

  it('rejects a non-positive partition size', () => {
    assert.throws(() => splitBlocks(10, 10, 0), RangeError)
  })
})

describe('partition SQL', () => {
  it('bounds middle partitions on both sides and leaves the ends open', () => {
    assert.equal(partitionPredicate({ index: 0, startBlock: 0, endBlock: 10 }), ` WHERE ctid < '(10,0)'::tid`)
    assert.equal(
      partitionPredicate({ index: 1, startBlock: 10, endBlock: 20 }),
      ` WHERE ctid >= '(10,0)'::tid AND ctid < '(20,0)'::tid`,
    )
    assert.equal(
      partitionPredicate({ index: 2, startBlock: 20, endBlock: undefined }),
      ` WHERE ctid >= '(20,0)'::tid`,
    )
    assert.equal(partitionPredicate({ index: 0, startBlock: 0, endBlock: undefined }), '')
  })

  it('quotes every identifier in the COPY', () => {
    const sql = partitionCopySql(
      { schema: 'My"Schema', table: 't' },
      ['id', 'Weird "col"'],
      { index: 0, startBlock: 0, endBlock: undefined },
      'text',
    )
    assert.equal(sql, `COPY (SELECT "id", "Weird ""col""" FROM "My""Schema"."t") TO STDOUT (FORMAT text)`)
  })
})
