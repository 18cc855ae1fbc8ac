// Writes src/api/model/<api>-model.json from botocore's <service>-2.json without its documentation
// strings: `ecs` (the ECS API, JSON 1.1) and `scheduler` (EventBridge Scheduler, rest-json: each
// operation keeps its HTTP binding, which routes by method and path). The APIs validate requests
// against these shape graphs, so wire compatibility follows the models instead of hand-copied rules.
// Usage: node scripts/compact-model.mjs ecs|scheduler [<model.json>]
import { readFileSync, writeFileSync } from 'node:fs';

const SOURCES = { ecs: 'ecs-service-2.json', scheduler: 'scheduler-service-2.json' };
const api = process.argv[2];
if (!(api in SOURCES)) throw new Error('usage: node scripts/compact-model.mjs ecs|scheduler [<model.json>]');
const source = process.argv[3] ?? `../shared/reference/${SOURCES[api]}`;
const model = JSON.parse(readFileSync(source, 'utf8'));

const strip = (value) => {
  if (Array.isArray(value)) return value.map(strip);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== 'documentation' && key !== 'documentationUrl')
        .map(([key, inner]) => [key, strip(inner)]),
    );
  }
  return value;
};

const operations = Object.fromEntries(
  Object.entries(model.operations).map(([name, op]) => [
    name,
    {
      ...(api === 'scheduler' ? { http: op.http } : {}),
      input: op.input?.shape,
      output: op.output?.shape,
      errors: (op.errors ?? []).map((e) => e.shape),
    },
  ]),
);
writeFileSync(
  new URL(`../src/api/model/${api}-model.json`, import.meta.url),
  JSON.stringify({ metadata: model.metadata, operations, shapes: strip(model.shapes) }) + '\n',
);
