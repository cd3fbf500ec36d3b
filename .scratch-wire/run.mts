import { startWireServer } from '/work/main/src/wire/server.ts'
import { echoHandlers } from '/work/main/test/support/echo-handler.ts'
const { createHandler } = echoHandlers()
const s = await startWireServer({ host: '127.0.0.1', port: 0, createHandler, password: process.env.PW, log: { warn: (o, m) => console.error('WARN', m, o), debug: (o, m) => console.error('DEBUG', m, o) } })
console.log(s.port)
