// Bad REST requests, part 2: mirrors (create, validate, status, list, batches, state changes), alert configs and
// routes. See bad-rest.ts.
import { del, get, INJECTION as injection, j, pgPeer, post, SECRET, type BadRest } from './rest-request.ts'

/** A flows/cdc/create body: m2, p1 → p2, public.t → public.x, with these fields changed. */
const mirror = (fields: object, mapping: object = {}) =>
  j({
    connectionConfigs: {
      flowJobName: 'm2',
      sourceName: 'p1',
      destinationName: 'p2',
      tableMappings: [
        { sourceTableIdentifier: 'public.t', destinationTableIdentifier: 'public.x', ...mapping },
      ],
      ...fields,
    },
  })
const stateChange = (fields: object) => j({ flowJobName: 'm1', ...fields })
const cdcUpdate = (update: object, fields: object = {}) =>
  stateChange({ flowConfigUpdate: { cdcFlowConfigUpdate: update }, ...fields })
const alert = (config: object) => j({ config: { serviceType: 'email', ...config } })
const slack = (serviceConfig: unknown) => alert({ serviceType: 'slack', serviceConfig })
const email = (serviceConfig: object, config: object = {}) =>
  alert({ serviceConfig: { email_addresses: ['ops@example.com'], ...serviceConfig }, ...config })

export const BAD_REST_MIRRORS: readonly BadRest[] = [
  // ---- mirrors: create and validate
  post(
    'm1 again with another mapping',
    '/flows/cdc/create',
    mirror({ flowJobName: 'm1' }),
    409,
    /different definition/,
  ),
  post('an unknown source peer', '/flows/cdc/create', mirror({ sourceName: 'nosuch' }), 404),
  post('an unknown destination peer', '/flows/cdc/create', mirror({ destinationName: 'nosuch' }), 404),
  post(
    'an unknown source table',
    '/flows/cdc/create',
    mirror({}, { sourceTableIdentifier: 'public.nosuch' }),
    404,
  ),
  post(
    'an unknown field in connectionConfigs',
    '/flows/cdc/create',
    mirror({ colour: 1 }),
    400,
    /unknown field/,
  ),
  post('maxBatchSize "big"', '/flows/cdc/create', mirror({ maxBatchSize: 'big' }), 400, /maxBatchSize/),
  post('maxBatchSize -1', '/flows/cdc/create', mirror({ maxBatchSize: -1 }), 400, /maxBatchSize/),
  post(
    'injection in the slot name',
    '/flows/cdc/create',
    mirror({ replicationSlotName: injection }),
    400,
    /replication_slot_name/,
  ),
  post(
    'injection in the publication name',
    '/flows/cdc/create',
    mirror({ publicationName: "x'); DROP PUBLICATION y; --" }),
    400,
    /publication_name/,
  ),
  post(
    'injection in the mirror name',
    '/flows/cdc/create',
    mirror({ flowJobName: 'm; DROP TABLE mirrors' }),
    400,
    /invalid mirror name/,
  ),
  post(
    'a Unicode mirror name',
    '/flows/cdc/create',
    mirror({ flowJobName: 'mß☃' }),
    400,
    /invalid mirror name/,
  ),
  post(
    'a mirror name of 64 characters',
    '/flows/cdc/create',
    mirror({ flowJobName: 'm'.repeat(64) }),
    400,
    /invalid mirror name/,
  ),
  post('no table mappings', '/flows/cdc/create', mirror({ tableMappings: [] }), 400, /tableMappings/),
  post(
    'an object for the table mappings',
    '/flows/cdc/create',
    mirror({ tableMappings: { a: 1 } }),
    400,
    /tableMappings/,
  ),
  post(
    'injection in a quoted source table',
    '/flows/cdc/create',
    mirror({}, { sourceTableIdentifier: 'public."t; DROP TABLE x"' }),
    404,
  ),
  post(
    'a source table mapped twice',
    '/flows/cdc/create',
    mirror({
      tableMappings: [
        { sourceTableIdentifier: 'public.t', destinationTableIdentifier: 'a' },
        { sourceTableIdentifier: 'public.t', destinationTableIdentifier: 'b' },
      ],
    }),
    400,
    /more than once/,
  ),
  post(
    'regression: a mirror from a table into itself was created',
    '/flows/cdc/create',
    mirror({ destinationName: 'p1' }, { destinationTableIdentifier: 't' }),
    400,
    /source table of this mirror/,
  ),
  post('a Lua script', '/flows/cdc/create', mirror({ script: 'return 1' }), 400, /not supported/),
  post('null connectionConfigs', '/flows/cdc/create', j({ connectionConfigs: null }), 400),
  post('validate: an unknown source peer', '/mirrors/cdc/validate', mirror({ sourceName: 'nosuch' }), 404),
  post(
    'validate: excluding the primary key',
    '/mirrors/cdc/validate',
    mirror({}, { exclude: ['id'] }),
    400,
    /primary key/,
  ),
  post(
    'validate: excluding an unknown column',
    '/mirrors/cdc/validate',
    mirror({}, { exclude: ['nosuch'] }),
    404,
  ),
  post(
    'validate: a four-part source name',
    '/mirrors/cdc/validate',
    mirror({}, { sourceTableIdentifier: 'a.b.c.d' }),
    400,
    /invalid table name/,
  ),
  // ---- mirrors: status, list, batches
  post('status of an unknown mirror', '/mirrors/status', j({ flowJobName: 'nosuch' }), 404),
  post('includeFlowInfo "yes"', '/mirrors/status', j({ flowJobName: 'm1', includeFlowInfo: 'yes' }), 400),
  post('a number for the mirror name', '/mirrors/status', j({ flowJobName: 123 }), 400),
  get(
    'regression: a filter on the mirror list was ignored',
    '/mirrors/list?status=STATUS_RUNNING',
    400,
    /unknown field "status"/,
  ),
  get('batches of an unknown mirror', '/mirrors/cdc/batches/nosuch', 404),
  get('batches limit=0', '/mirrors/cdc/batches/m1?limit=0', 400, /limit/),
  get('batches limit=abc', '/mirrors/cdc/batches/m1?limit=abc', 400, /limit/),
  post(
    'batches limit 100,000',
    '/mirrors/cdc/batches',
    j({ flowJobName: 'm1', limit: 100_000 }),
    400,
    /limit/,
  ),
  post('batches (body) of an unknown mirror', '/mirrors/cdc/batches', j({ flowJobName: 'nosuch' }), 404),
  // ---- mirrors: state changes
  post(
    'pause an unknown mirror',
    '/mirrors/state_change',
    j({ flowJobName: 'nosuch', requestedFlowState: 'STATUS_PAUSED' }),
    404,
  ),
  post(
    'an unknown state',
    '/mirrors/state_change',
    stateChange({ requestedFlowState: 'STATUS_BOGUS' }),
    400,
    /unknown flow state/,
  ),
  post(
    'a state that cannot be requested',
    '/mirrors/state_change',
    stateChange({ requestedFlowState: 'STATUS_SETUP' }),
    400,
    /illegal state change/,
  ),
  post('an unknown state number', '/mirrors/state_change', stateChange({ requestedFlowState: 99 }), 400),
  post(
    'resync a mirror still in setup',
    '/mirrors/state_change',
    stateChange({ requestedFlowState: 'STATUS_RESYNC' }),
    409,
    /cannot resync/,
  ),
  post(
    'regression: the batch size changed although the resync was refused',
    '/mirrors/state_change',
    cdcUpdate({ batchSize: 100 }, { requestedFlowState: 'STATUS_RESYNC' }),
    409,
    /cannot resync/,
  ),
  post(
    'regression: the batch size changed although the added table was refused',
    '/mirrors/state_change',
    cdcUpdate({
      batchSize: 100,
      additionalTables: [{ sourceTableIdentifier: 'public.t', destinationTableIdentifier: 'public.t2' }],
    }),
    409,
    /already part of mirror/,
  ),
  post(
    'regression: the batch size changed although the added table does not exist',
    '/mirrors/state_change',
    cdcUpdate({
      batchSize: 100,
      additionalTables: [{ sourceTableIdentifier: 'public.nosuch', destinationTableIdentifier: 'public.z' }],
    }),
    404,
  ),
  post('batchSize -5', '/mirrors/state_change', cdcUpdate({ batchSize: -5 }), 400, /batchSize/),
  post('an unknown update field', '/mirrors/state_change', cdcUpdate({ colour: 1 }), 400, /unknown field/),
  post(
    'skipDestinationDrop',
    '/mirrors/state_change',
    stateChange({ requestedFlowState: 'STATUS_TERMINATED', skipDestinationDrop: true }),
    400,
    /not supported/,
  ),
  post(
    'a query-replication update',
    '/mirrors/state_change',
    stateChange({ flowConfigUpdate: { qrepFlowConfigUpdate: { a: 1 } } }),
    400,
    /not supported/,
  ),
  // ---- alert configs
  post(
    'an unknown service type',
    '/alerts/config',
    alert({ serviceType: 'pagerduty', serviceConfig: {} }),
    400,
    /serviceType/,
  ),
  post('serviceConfig that is not JSON', '/alerts/config', slack('{not json'), 400, /JSON object/),
  post('serviceConfig that is a JSON array', '/alerts/config', slack('[1,2]'), 400, /JSON object/),
  post(
    'an unknown serviceConfig key',
    '/alerts/config',
    slack({ auth_token: SECRET, channel_ids: ['c'], colour: 1 }),
    400,
    /colour/,
  ),
  post(
    'channel_ids as a string',
    '/alerts/config',
    slack({ authToken: SECRET, channelIds: 'c' }),
    400,
    /channel_ids/,
  ),
  post(
    'no channels',
    '/alerts/config',
    slack(j({ auth_token: SECRET, channel_ids: [] })),
    400,
    /channel_ids/,
  ),
  post(
    '******** for a token with none stored',
    '/alerts/config',
    slack({ auth_token: '********', channel_ids: ['c'] }),
    400,
    /secret itself/,
  ),
  post(
    'injection as an email address',
    '/alerts/config',
    email({ email_addresses: ["x'; DROP TABLE alert_configs; --"] }),
    400,
    /email/,
  ),
  post(
    'a negative threshold',
    '/alerts/config',
    email({ slot_lag_mb_alert_threshold: -1 }),
    400,
    /threshold/,
  ),
  post(
    'injection as a mirror name',
    '/alerts/config',
    email({}, { alertForMirrors: ['m; DROP TABLE mirrors'] }),
    400,
    /invalid mirror name/,
  ),
  post('update an unknown config', '/alerts/config', email({}, { id: 999 }), 404),
  post('id "abc"', '/alerts/config', email({}, { id: 'abc' }), 400, /config\.id/),
  post('id 1.5', '/alerts/config', email({}, { id: 1.5 }), 400, /config\.id/),
  post(
    'regression: id 3,000,000,000 reached the catalog (500)',
    '/alerts/config',
    email({}, { id: 3e9 }),
    400,
    /config\.id/,
  ),
  del('delete an unknown config', '/alerts/config/999', 404),
  del('delete id abc', '/alerts/config/abc', 400),
  del('regression: delete id 3,000,000,000 reached the catalog (500)', '/alerts/config/3000000000', 400),
  del('delete id 0x10 (was read as 16)', '/alerts/config/0x10', 400),
  // ---- routes
  get('an unknown route', '/nosuch', 404, /no route/),
  { ...post('PUT on a POST route', '/peers/create', pgPeer({}), 404, /no route PUT/), method: 'PUT' },
]
