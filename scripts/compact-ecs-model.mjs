// Writes src/api/model/ecs-model.json: the ECS API model (botocore's ecs-service-2.json) without its
// documentation strings. The API validates requests against this shape graph, so wire compatibility
// follows the model instead of hand-copied rules. Usage: node scripts/compact-ecs-model.mjs <model.json>
import { readFileSync, writeFileSync } from 'node:fs';

const source = process.argv[2] ?? '../shared/reference/ecs-service-2.json';
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
    { input: op.input?.shape, output: op.output?.shape, errors: (op.errors ?? []).map((e) => e.shape) },
  ]),
);
writeFileSync(
  new URL('../src/api/model/ecs-model.json', import.meta.url),
  JSON.stringify({ metadata: model.metadata, operations, shapes: strip(model.shapes) }) + '\n',
);
