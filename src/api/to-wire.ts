import { shapeNamed } from './ecs-model';

/**
 * Berth extension members of output shapes (not in the model, so SDKs drop them; raw JSON clients see
 * them), passed through as the use case built them, in wire form already. Each is documented where
 * it is produced.
 */
const OUTPUT_EXTENSIONS: Readonly<Record<string, readonly string[]>> = {
  // CapacityProviderReservation per cluster (src/app/capacity-providers.ts, docs/placement.md).
  CapacityProvider: ['managedScalingMetrics'],
};

/**
 * Shapes a use case result into the operation's output shape: only members the model declares (and
 * the extension members above), timestamps as epoch seconds (what the JSON protocol sends; Berth
 * stores epoch milliseconds).
 */
export function toWire(shapeName: string, value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  const shape = shapeNamed(shapeName);
  switch (shape.type) {
    case 'structure': {
      const result: Record<string, unknown> = {};
      for (const [name, member] of Object.entries(shape.members ?? {})) {
        const wire = toWire(member.shape, (value as Record<string, unknown>)[name]);
        if (wire !== undefined) result[name] = wire;
      }
      for (const name of OUTPUT_EXTENSIONS[shapeName] ?? []) {
        const extra = (value as Record<string, unknown>)[name];
        if (extra !== undefined) result[name] = extra;
      }
      return result;
    }
    case 'list':
      return (value as unknown[]).map((item) => toWire(shape.member!.shape, item));
    case 'map':
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, toWire(shape.value!.shape, item)]),
      );
    case 'timestamp':
      return typeof value === 'number' ? value / 1000 : value;
    default:
      return value;
  }
}
