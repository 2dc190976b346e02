/** Every schema with a $id: registered once for validation (plugins/validation) and OpenAPI components. */
import { TaskIdSchema } from './common.js'
import { ProblemSchema } from './problem.js'
import { GroupViewSchema, GroupWaitResponseSchema } from './group.js'
import { opsSchemas } from './ops.js'
import { batchRequestSchemas, sharedSchemas } from './result.js'
import { ticketSchemas } from './ticket.js'
import { webhookSchemas } from './webhook.js'

/** Every schema, with the limits that come from configuration (batch sizes) built in: once per app. */
export const schemasFor = (limits: { batchMaxIds: number }) =>
  [TaskIdSchema, ProblemSchema, ...sharedSchemas, ...batchRequestSchemas(limits.batchMaxIds), GroupViewSchema, GroupWaitResponseSchema, ...opsSchemas,
    ...ticketSchemas(limits.batchMaxIds), ...webhookSchemas]
