// One raw REST request of the bad-input catalogues and the answer it must get, with builders that keep the
// catalogue entries short.

export interface BadRestEnv {
  /** A Postgres that answers (the catalog's server), for inputs that must get as far as a connection. */
  readonly pgPort: string
}

export type Text = string | ((env: BadRestEnv) => string)

export interface BadRest {
  readonly name: string
  readonly method: 'GET' | 'POST' | 'DELETE' | 'PUT'
  readonly path: string
  /** Sent as it is ('' sends an empty body; GET sends none). */
  readonly body: Text
  /** Added to the auth and `content-type: application/json` headers; an empty value removes one of those. */
  readonly headers?: Readonly<Record<string, string>>
  /** The HTTP status the answer must have. */
  readonly status: number
  /** What the error's `message` must say. */
  readonly messageMatch?: RegExp
}

/** In request bodies that carry a secret; no answer may contain it. */
export const SECRET = 'hunter2-never-echoed'

export const INJECTION = "x'; DROP TABLE peers; --"

export const j = JSON.stringify

export const basic = (userPassword: string) => `Basic ${Buffer.from(userPassword).toString('base64')}`

export const get = (name: string, path: string, status: number, messageMatch?: RegExp): BadRest => ({
  name,
  method: 'GET',
  path: `/api/v1${path}`,
  body: '',
  status,
  ...(messageMatch ? { messageMatch } : {}),
})

export const post = (
  name: string,
  path: string,
  body: Text,
  status: number,
  messageMatch?: RegExp,
): BadRest => ({ ...get(name, path, status, messageMatch), method: 'POST', body })

export const del = (name: string, path: string, status: number, messageMatch?: RegExp): BadRest => ({
  ...get(name, path, status, messageMatch),
  method: 'DELETE',
})

/** A peers/create body for a postgres peer on 127.0.0.1:1 (refused at once, should it ever get that far). */
export const pgPeer = (config: object, extra: object = {}, name = 'x') =>
  j({
    peer: {
      name,
      type: 'POSTGRES',
      postgresConfig: { host: '127.0.0.1', port: 1, user: 'u', database: 'd', ...config },
    },
    ...extra,
  })
