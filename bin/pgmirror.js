#!/usr/bin/env node
// Runs the TypeScript sources in-process through tsx, so one PID is the whole server.
import { register } from 'tsx/esm/api'

register()
await import('../src/main.ts')
