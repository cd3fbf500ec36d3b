// Preloaded into pgmirror (NODE_OPTIONS=--import …) when BENCH_CPU_PROF is set: records a V8 CPU profile and
// writes it when the process exits. `node --cpu-prof` would do the same, but NODE_OPTIONS may not carry it.
// Plain JavaScript, because it loads before pgmirror registers its TypeScript loader.
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import process from 'node:process'

const dir = process.env.BENCH_CPU_PROF
if (dir) {
  const session = new Session()
  session.connect()
  session.post('Profiler.enable')
  // 1 ms: fine enough for hot loops, coarse enough not to slow the process down.
  session.post('Profiler.setSamplingInterval', { interval: 1000 })
  session.post('Profiler.start')
  process.on('exit', () => {
    // An in-process inspector session answers synchronously, so the file is written before the process ends.
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(`${dir}/pgmirror-${process.pid}.cpuprofile`, JSON.stringify(result.profile))
    })
  })
}
