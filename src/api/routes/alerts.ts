/**
 * /api/v1/alerts/config: where alerts go, by id (PeerDB's shape). The same configs are CREATE / ALTER / DROP ALERT
 * by name on the wire; sending them is the alert checker's job (engine/alerting).
 */
import {
  deleteAlertConfig,
  listAlertConfigs,
  saveAlertConfig,
  type AlertContext,
} from '../../engine/commands/alerts.ts'
import { PgMirrorError } from '../../errors.ts'
import { defineRoute, type RouteDef } from '../route.ts'
import {
  AlertIdParams,
  Empty,
  ListAlertConfigsResponse,
  PostAlertConfigRequest,
  PostAlertConfigResponse,
} from '../schemas.ts'

/** PeerDB sends serviceConfig as JSON text; an object is accepted too. */
function serviceConfigObject(value: string | Record<string, unknown>): Record<string, unknown> {
  if (typeof value !== 'string') return value
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    parsed = undefined
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new PgMirrorError('invalid_parameter_value', 'config.serviceConfig must be a JSON object', {
      field: 'config.serviceConfig',
    })
  }
  return parsed as Record<string, unknown>
}

export function alertRoutes(ctx: AlertContext): RouteDef[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/v1/alerts/config',
      tag: 'alerts',
      summary: 'All alert configs; secrets read ********',
      response: ListAlertConfigsResponse,
      errors: [],
      handler: async () => ({
        configs: (await listAlertConfigs(ctx)).map((c) => ({
          id: c.id,
          name: c.name,
          serviceType: c.serviceType,
          serviceConfig: JSON.stringify(c.serviceConfig),
          alertForMirrors: c.alertForMirrors,
        })),
      }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/v1/alerts/config',
      tag: 'alerts',
      summary: 'Create (id -1; an identical config returns its id) or update (any other id) an alert config',
      body: PostAlertConfigRequest,
      response: PostAlertConfigResponse,
      errors: [400, 404],
      handler: async ({ body }) =>
        saveAlertConfig(ctx, {
          id: body.config.id,
          serviceType: body.config.serviceType,
          serviceConfig: serviceConfigObject(body.config.serviceConfig),
          alertForMirrors: body.config.alertForMirrors,
        }),
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/v1/alerts/config/:id',
      tag: 'alerts',
      summary: 'Delete an alert config',
      params: AlertIdParams,
      response: Empty,
      errors: [400, 404],
      handler: async ({ params }) => {
        await deleteAlertConfig(ctx, params.id)
        return {}
      },
    }),
  ]
}
