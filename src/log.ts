import { pino, type Logger } from 'pino'

export type { Logger }

/**
 * One logger factory. Secret-bearing keys are censored wherever they appear in logged objects, so a config or
 * request object that slips into a log line never carries a password.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { app: 'pgmirror' },
    redact: {
      paths: [
        'password',
        '*.password',
        '*.*.password',
        'config.password',
        'private_key',
        '*.private_key',
        'auth_token',
        '*.auth_token',
        'secret_access_key',
        '*.secret_access_key',
        'authorization',
        '*.authorization',
        'headers.authorization',
      ],
      censor: '********',
    },
  })
}
