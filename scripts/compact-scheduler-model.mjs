// Writes src/api/model/scheduler-model.json: the EventBridge Scheduler API model (botocore's
// scheduler-service-2.json) without its documentation strings, keeping each operation's HTTP binding
// (rest-json routes by method and path). Usage: node scripts/compact-scheduler-model.mjs <model.json>
import { readFileSync, writeFileSync } from 'node:fs';

const source = process.argv[2] ?? '../shared/reference/scheduler-service-2.json';
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
    { http: op.http, input: op.input?.shape, output: op.output?.shape, errors: (op.errors ?? []).map((e) => e.shape) },
  ]),
);
writeFileSync(
  new URL('../src/api/model/scheduler-model.json', import.meta.url),
  JSON.stringify({ metadata: model.metadata, operations, shapes: strip(model.shapes) }) + '\n',
);
