// The web UI page on :3000: served at /, behind the same HTTP Basic auth as the API, and driving REST routes that exist.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startApi, type ApiFixture } from './api-fixture.ts'

describe('web UI', () => {
  let api: ApiFixture

  before(async () => {
    api = await startApi({ password: 'ui-pass' })
  })

  after(async () => {
    await api?.close()
  })

  test('GET / asks for the password, then serves the page', async () => {
    const anon = await api.request('GET', '/')
    assert.equal(anon.status, 401)
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic/)
    const auth = { authorization: `Basic ${Buffer.from(':ui-pass').toString('base64')}` }
    const page = await api.request('GET', '/', undefined, auth)
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-type') ?? '', /text\/html/)
    assert.match(page.text, /<title>pgmirror<\/title>/)
    // every API path the page calls must be a documented route
    const doc = (await api.request('GET', '/api/v1/openapi.json', undefined, auth)).json as {
      paths: Record<string, unknown>
    }
    const used = [...page.text.matchAll(/api\('(?:GET|POST)', '([a-z_/]+)'/g)].map((m) => `/api/v1/${m[1]}`)
    assert.ok(used.length >= 6)
    for (const path of used) assert.ok(path in doc.paths, `${path} is not a route`)
  })
})
