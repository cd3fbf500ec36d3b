import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Parser } from 'pg-protocol/dist/parser'
import type { BackendMessage } from 'pg-protocol/dist/messages'
import * as backend from '../../../src/wire/backend.ts'

/** pg-protocol (node-postgres's own parser) is the independent oracle: what it reads back is what a driver sees. */
function parse(...messages: Buffer[]): (BackendMessage & Record<string, unknown>)[] {
  const out: (BackendMessage & Record<string, unknown>)[] = []
  new Parser().parse(Buffer.concat(messages), (m) => out.push(m as BackendMessage & Record<string, unknown>))
  return out
}

function one(message: Buffer): BackendMessage & Record<string, unknown> {
  const all = parse(message)
  assert.equal(all.length, 1)
  return all[0] as BackendMessage & Record<string, unknown>
}

describe('backend encoders (checked with pg-protocol)', () => {
  it('authentication messages', () => {
    assert.equal(one(backend.authenticationOk()).name, 'authenticationOk')
    const sasl = one(backend.authenticationSasl(['SCRAM-SHA-256']))
    assert.equal(sasl.name, 'authenticationSASL')
    assert.deepEqual(sasl.mechanisms, ['SCRAM-SHA-256'])
    const cont = one(backend.authenticationSaslContinue('r=abc,s=c2FsdA==,i=4096'))
    assert.equal(cont.name, 'authenticationSASLContinue')
    assert.equal(cont.data, 'r=abc,s=c2FsdA==,i=4096')
    const fin = one(backend.authenticationSaslFinal('v=xyz'))
    assert.equal(fin.name, 'authenticationSASLFinal')
    assert.equal(fin.data, 'v=xyz')
  })

  it('ParameterStatus, BackendKeyData, ReadyForQuery', () => {
    const ps = one(backend.parameterStatus('DateStyle', 'ISO, MDY'))
    assert.equal(ps.parameterName, 'DateStyle')
    assert.equal(ps.parameterValue, 'ISO, MDY')
    const key = one(backend.backendKeyData(4242, -17))
    assert.equal(key.processID, 4242)
    assert.equal(key.secretKey, -17)
    for (const s of ['I', 'T', 'E'] as const) assert.equal(one(backend.readyForQuery(s)).status, s)
  })

  it('RowDescription with defaults and explicit attributes and formats', () => {
    const rd = one(
      backend.rowDescription(
        [
          { name: 'id', typeOid: 23 },
          { name: 'näme', typeOid: 25, tableOid: 16384, columnAttr: 2, typeSize: -1, typeMod: 36 },
        ],
        [1, 0],
      ),
    )
    assert.equal(rd.name, 'rowDescription')
    const fields = rd.fields as Record<string, unknown>[]
    assert.deepEqual(
      fields.map((f) => [
        f.name,
        f.tableID,
        f.columnID,
        f.dataTypeID,
        f.dataTypeSize,
        f.dataTypeModifier,
        f.format,
      ]),
      [
        ['id', 0, 0, 23, -1, -1, 'binary'],
        ['näme', 16384, 2, 25, -1, 36, 'text'],
      ],
    )
  })

  it('ParameterDescription', () => {
    const pd = one(backend.parameterDescription([23, 25]))
    assert.equal(pd.name, 'parameterDescription')
    assert.deepEqual(pd.dataTypeIDs, [23, 25])
  })

  it('DataRow with text, binary and null values', () => {
    const dr = one(backend.dataRow(['1', null, 'ünï', '', Buffer.from([0, 0, 0, 5])]))
    assert.equal(dr.name, 'dataRow')
    assert.deepEqual((dr.fields as unknown[]).slice(0, 4), ['1', null, 'ünï', ''])
    assert.equal((dr.fields as unknown[]).length, 5)
  })

  it('CommandComplete and the bodiless messages', () => {
    assert.equal(one(backend.commandComplete('CREATE PEER')).text, 'CREATE PEER')
    const names = parse(
      backend.emptyQueryResponse(),
      backend.parseComplete(),
      backend.bindComplete(),
      backend.closeComplete(),
      backend.noData(),
      backend.portalSuspended(),
    ).map((m) => m.name)
    assert.deepEqual(names, [
      'emptyQuery',
      'parseComplete',
      'bindComplete',
      'closeComplete',
      'noData',
      'portalSuspended',
    ])
  })

  it('ErrorResponse carries severity, code, message, detail, hint and position', () => {
    const e = one(
      backend.errorResponse({
        severity: 'ERROR',
        code: '42601',
        message: 'syntax error at or near "x"',
        detail: 'd',
        hint: 'h',
        position: 3,
      }),
    )
    assert.equal(e.name, 'error')
    assert.deepEqual(
      [e.severity, e.code, e.message, e.detail, e.hint, e.position],
      ['ERROR', '42601', 'syntax error at or near "x"', 'd', 'h', '3'],
    )
  })

  it('NoticeResponse without optional fields; an embedded NUL cannot break framing', () => {
    const n = one(backend.noticeResponse({ severity: 'WARNING', code: '01000', message: 'a\0b' }))
    assert.equal(n.name, 'notice')
    assert.deepEqual(
      [n.severity, n.code, n.message, n.detail, n.hint],
      ['WARNING', '01000', 'ab', undefined, undefined],
    )
  })

  it('NegotiateProtocolVersion is laid out as documented', () => {
    const buf = backend.negotiateProtocolVersion(0, ['_pq_.x'])
    assert.deepEqual(
      buf,
      Buffer.from(
        '76' + '00000013' + '00000000' + '00000001' + Buffer.from('_pq_.x\0').toString('hex'),
        'hex',
      ),
    )
  })
})
