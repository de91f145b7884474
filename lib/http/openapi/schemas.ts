/**
 * The components of the OpenAPI document (lib/http/openapi/document.ts): the wire shapes of
 * lib/protocol.ts and docs/PROTOCOL.md as JSON Schema 2020-12, which OpenAPI 3.1 uses as is.
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const int = { type: 'integer', minimum: 0 };
const counts = { type: 'object', additionalProperties: int };

const deltaBase = {
  seq: { type: 'integer', minimum: 1 },
  ts: { type: 'integer', description: 'Server timestamp, ms since the epoch.' },
};

export const schemas = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: {
            enum: [
              'invalid_request', 'invalid_json', 'invalid_cursor', 'invalid_callback', 'unauthorized', 'invalid_token',
              'forbidden', 'not_found', 'method_not_allowed', 'event_ended', 'stale_version', 'idempotency_conflict',
              'payload_too_large', 'unsupported_media_type', 'rate_limited', 'headers_too_large', 'internal', 'draining', 'unavailable',
            ],
          },
          message: { type: 'string' },
          field: { type: 'string', description: 'The offending parameter or body field (400s).' },
        },
      },
    },
  },
  EventMeta: {
    type: 'object',
    required: ['title', 'sport', 'visibility'],
    properties: { title: { type: 'string' }, sport: { type: 'string' }, visibility: { enum: ['public', 'private'] } },
    additionalProperties: true,
  },
  EventState: { enum: ['scheduled', 'live', 'ended'] },
  Delta: {
    oneOf: [
      {
        type: 'object',
        required: ['seq', 'ts', 'kind', 'op', 'data'],
        properties: { ...deltaBase, kind: { const: 'score' }, op: { enum: ['set', 'patch'] }, type: { type: 'string' }, version: int, data: { type: 'object' } },
      },
      {
        type: 'object',
        required: ['seq', 'ts', 'kind', 'data'],
        properties: { ...deltaBase, kind: { const: 'notice' }, type: { type: 'string' }, data: { type: 'object', required: ['title'] } },
      },
      {
        type: 'object',
        required: ['seq', 'ts', 'kind', 'id'],
        properties: {
          ...deltaBase, kind: { const: 'chat' }, op: { const: 'delete' }, id: { type: 'string' }, text: { type: 'string' },
          user: { type: 'object', required: ['id'], properties: { id: { type: 'string' }, name: { type: 'string' } } },
        },
      },
      {
        type: 'object',
        required: ['seq', 'ts', 'kind', 'counts', 'samples', 'window'],
        properties: {
          ...deltaBase, kind: { const: 'reactions' }, counts,
          samples: { type: 'array', maxItems: 20, items: { type: 'object', properties: { user: { type: ['string', 'null'] }, verified: { type: 'boolean', description: 'true only when user is a verified token sub; a viewer id anyone may claim is false' }, emoji: { type: 'string' }, comment: { type: 'string' } } } },
          window: { type: 'object', properties: { from: { type: 'integer' }, to: { type: 'integer' } } },
        },
      },
      {
        type: 'object',
        required: ['seq', 'ts', 'kind', 'data'],
        properties: { ...deltaBase, kind: { const: 'status' }, data: { type: 'object', required: ['state'], properties: { state: ref('EventState'), meta: ref('EventMeta') } } },
      },
    ],
  },
  Snapshot: {
    type: 'object',
    required: ['seq', 'meta', 'state', 'score', 'chat', 'reactions'],
    properties: {
      seq: int,
      meta: ref('EventMeta'),
      state: ref('EventState'),
      score: { type: 'object' },
      chat: { type: 'array', items: { type: 'object' } },
      reactions: { type: 'object', properties: { totals: counts, other: { ...int, description: 'reactions of the names beyond the REACTION_TOTALS_MAX largest totals (present once there are more)' } } },
    },
  },
  Advice: { type: 'object', required: ['timeoutMs', 'retryMs'], properties: { timeoutMs: int, maxTimeoutMs: int, retryMs: int } },
  PollAnswer: {
    type: 'object',
    required: ['event', 'cursor', 'deltas', 'more', 'viewers', 'reset', 'ended'],
    properties: {
      event: { type: 'string' },
      cursor: { type: 'string', pattern: '^[a-z0-9]{1,16}-[0-9]{1,15}$' },
      deltas: { type: 'array', items: ref('Delta') },
      more: { type: 'boolean' },
      viewers: int,
      reset: { type: 'boolean' },
      ended: { type: 'boolean' },
      snapshot: ref('Snapshot'),
      missed: { type: ['integer', 'null'] },
      advice: ref('Advice'),
      viewerId: { type: 'string' },
    },
  },
  MultiPollAnswer: {
    type: 'object',
    required: ['results'],
    properties: {
      results: {
        type: 'array',
        items: {
          oneOf: [
            ref('PollAnswer'),
            { type: 'object', required: ['event', 'status', 'error'], properties: { event: { type: 'string' }, status: { type: 'integer' }, error: { type: 'object' } } },
          ],
        },
      },
    },
  },
  EventSummary: {
    type: 'object',
    required: ['id', 'meta', 'state', 'viewers'],
    properties: { id: { type: 'string' }, meta: ref('EventMeta'), state: ref('EventState'), viewers: int },
  },
  EventDetail: {
    allOf: [ref('EventSummary'), { type: 'object', required: ['cursor', 'snapshot'], properties: { cursor: { type: 'string' }, snapshot: ref('Snapshot') } }],
  },
  EventInput: {
    type: 'object',
    properties: { title: { type: 'string' }, sport: { type: 'string' }, visibility: { enum: ['public', 'private'] }, state: ref('EventState'), meta: { type: 'object' } },
  },
  ScoreInput: {
    type: 'object',
    required: ['data'],
    properties: { op: { enum: ['set', 'patch'] }, type: { type: 'string' }, version: int, data: { type: 'object' } },
  },
  NoticeInput: {
    type: 'object',
    required: ['title'],
    properties: { type: { type: 'string' }, title: { type: 'string' }, body: { type: 'string' }, level: { enum: ['info', 'important'] } },
  },
  ChatInput: { type: 'object', required: ['text'], properties: { text: { type: 'string', minLength: 1, maxLength: 500 } } },
  ReactionInput: {
    type: 'object',
    required: ['emoji'],
    properties: { emoji: { type: 'string', minLength: 1, maxLength: 16 }, comment: { type: 'string', maxLength: 140 } },
  },
  ChatAnswer: { type: 'object', required: ['seq', 'id'], properties: { seq: { type: 'integer' }, id: { type: 'string' } } },
  AppendAnswer: { type: 'object', required: ['seq', 'cursor'], properties: { seq: { type: 'integer' }, cursor: { type: 'string' } } },
  Presence: {
    type: 'object',
    required: ['viewers'],
    properties: { viewers: int, members: { type: 'array', items: { type: 'string', description: "a token's sub as it is; a claimed viewer id behind '~'" } }, next: { type: ['string', 'null'] } },
  },
  EventStats: {
    type: 'object',
    required: ['event', 'window', 'viewers', 'totals', 'minutes', 'topEmoji'],
    properties: {
      event: { type: 'string' },
      window: { type: 'object', properties: { from: { type: 'integer' }, to: { type: 'integer' } } },
      viewers: { type: 'object', properties: { current: int, peak: int, peakAt: { type: ['integer', 'null'] } } },
      totals: { type: 'object', properties: { reactions: int, chat: int } },
      minutes: {
        type: 'array',
        maxItems: 60,
        items: { type: 'object', properties: { at: { type: 'integer' }, viewers: int, reactions: int, chat: int } },
      },
      topEmoji: { type: 'array', items: { type: 'object', properties: { emoji: { type: 'string' }, count: int } } },
    },
  },
} as const;
