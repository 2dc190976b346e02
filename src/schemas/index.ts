/** Every schema with a $id: registered once for validation (plugins/validation) and OpenAPI components. */
import { TaskIdSchema } from './common.js'
import { ProblemSchema } from './problem.js'
import { GroupViewSchema, GroupWaitResponseSchema } from './group.js'
import { opsSchemas } from './ops.js'
import { sharedSchemas } from './result.js'

export const allSchemas = [TaskIdSchema, ProblemSchema, ...sharedSchemas, GroupViewSchema, GroupWaitResponseSchema, ...opsSchemas]
